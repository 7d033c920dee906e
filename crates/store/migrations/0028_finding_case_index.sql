-- The open cases behind each standard (the projection's weak links) are
-- found from the findings that opened them: a few thousand of ten million
-- findings carry a case, and without an index each count read them all.
CREATE INDEX finding_case ON finding (case_id) WHERE case_id IS NOT NULL;
