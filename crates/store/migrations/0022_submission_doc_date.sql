-- A material's own date never changes once filed: kept beside each of its
-- submissions too, the window's accepted materials of a requirement are
-- one range of one index (completeness counts them for every requirement)
-- instead of a visit to each material.
ALTER TABLE submission ADD COLUMN doc_date TEXT;
UPDATE submission SET doc_date = (SELECT m.doc_date FROM material m WHERE m.id = submission.material_id);
CREATE INDEX submission_dated ON submission (requirement_id, state, doc_date);
DROP INDEX material_dated;
