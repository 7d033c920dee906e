-- Whom a handled case waits for (核查) and since when: verification goes
-- to a field inspector, not to whoever happens to open the list.
ALTER TABLE case_record ADD COLUMN verifier_id TEXT REFERENCES app_user (id);
ALTER TABLE case_record ADD COLUMN verifier_since BIGINT;
CREATE INDEX case_verifier ON case_record (verifier_id, state);
