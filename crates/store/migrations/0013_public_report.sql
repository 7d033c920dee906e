-- The glossary's name for a citizen's photo report (随手拍) is a public
-- report: the stored source code follows it.
UPDATE case_record SET source = 'public_report' WHERE source = 'citizen';
