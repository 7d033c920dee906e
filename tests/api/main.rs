//! The integration suite: every test runs the real server, on SQLite and
//! (with WENMING_TEST_DATABASE_URL) on PostgreSQL.

mod helpers;

mod integrity;
mod operations;

mod anomalies;
mod api;
mod audit;
mod auth;
mod backup;
mod bulk;
mod cases;
mod cli;
mod escalation;
mod evidence;
mod finding;
mod forms;
mod framework;
mod generate;
mod home;
mod org;
mod photos;
mod plans;
mod rankings;
mod ratings;
mod roles;
mod rounds;
mod route_matrix;
mod scoped_writes;
mod scoring;
mod sites;
mod sources;
mod structure;
mod surveys;
mod tallies;
mod tasks;
mod verification;
mod workflow;
