-- What the photo checks found on a material that is a picture (JSON list of
-- domain::evidence::PhotoFlag; NULL for other files), decided when it is
-- filed: the same picture as a case's photo, the same file filed by
-- another unit, or a capture time outside the filing window.
ALTER TABLE material ADD COLUMN photo_flags TEXT;
