-- A requirement's submissions counted by state without reading the table:
-- the archive's lists and completeness count them for every requirement.
CREATE INDEX submission_requirement_state ON submission (requirement_id, state, material_id);
