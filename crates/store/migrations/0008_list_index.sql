-- A unit's cases in a state, newest first (the unit's inbox and the
-- filtered list): found and ordered by one index, no sort.
CREATE INDEX case_unit_list ON case_record (unit_id, state, reported_at, id);

-- A period's metrics read the cases registered, dispatched, handled or due
-- in it: one index a column lets the database read just those.
CREATE INDEX case_registered ON case_record (registered_at);
CREATE INDEX case_dispatched ON case_record (dispatched_at);
CREATE INDEX case_handled ON case_record (handled_at);
