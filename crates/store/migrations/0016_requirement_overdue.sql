-- The due date a requirement's unit was last told it had missed: each due
-- date is told once, and a new one (the office moved it) is told again.
ALTER TABLE evidence_requirement ADD COLUMN overdue_told_on TEXT;
