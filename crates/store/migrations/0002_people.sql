-- People of a unit: staff who own tasks, chair sites or answer for a
-- standard, whether or not they have an account.
CREATE TABLE person (
    id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES unit (id),
    name TEXT NOT NULL,
    title TEXT,
    phone TEXT,
    active BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX person_unit ON person (unit_id, name);
