-- Integrity repairs.

-- A finding recorded by someone whose own unit sponsors the site (sent
-- there by hand: rotation never does it), so the report can show it.
ALTER TABLE finding ADD COLUMN own_unit BIGINT NOT NULL DEFAULT 0;

-- Cases voided after dispatch, and cases parked with approval, are not due
-- against their unit: the month's sums count them in their own columns.
ALTER TABLE case_tally ADD COLUMN voided BIGINT NOT NULL DEFAULT 0;
ALTER TABLE case_tally ADD COLUMN parked BIGINT NOT NULL DEFAULT 0;
-- What a case counts for changed: the sums are built again.
DELETE FROM case_tally_built;

-- Overdue is one definition (domain::case::deadline_state): a case waiting
-- for the office's decision on an ask is not overdue, so the index of
-- overdue cases holds only those whose deadline runs.
DROP INDEX case_overdue;
CREATE INDEX case_overdue ON case_record (deadline, unit_id, region_id)
    WHERE state IN ('dispatched', 'rework');

-- A third-party row that matched nothing keeps its photos (named by the
-- round_unmatched row) until someone maps it; the sweep leaves them.
ALTER TABLE photo ADD COLUMN held_for TEXT;

-- A photo's 16 × 16 luminance grid (hex), so that a case's before and
-- after photos from one spot are told apart when the scene changed.
ALTER TABLE photo ADD COLUMN grid TEXT;
