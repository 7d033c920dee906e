-- A unit's cases in a state, newest first (the unit's inbox and the
-- filtered list): found and ordered by one index, no sort.
CREATE INDEX case_unit_list ON case_record (unit_id, state, reported_at, id);
