-- Whether an accepted material falls inside the window is read for every
-- accepted submission of a framework: with the date beside the id in one
-- index, that is an index lookup, not a visit to each wide material row.
CREATE INDEX material_dated ON material (id, doc_date);
