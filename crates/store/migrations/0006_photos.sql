-- Photos on cases. A row is written only after its files are stored; until
-- a step attaches it (case_id set) it is "staged" and the sweep may remove it.
CREATE TABLE photo (
    id TEXT PRIMARY KEY,
    case_id TEXT REFERENCES case_record (id),
    event_id TEXT,
    role TEXT,
    kind TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    dhash BIGINT NOT NULL,
    taken_at BIGINT,
    gps_lon DOUBLE PRECISION,
    gps_lat DOUBLE PRECISION,
    flags TEXT NOT NULL,
    uploaded_by TEXT,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX photo_case ON photo (case_id, uploaded_at);
CREATE INDEX photo_sha ON photo (sha256);
CREATE INDEX photo_uploaded ON photo (uploaded_at);

-- The perceptual hash cut into bytes, so near-identical photos are found
-- through an index instead of by comparing against every photo.
CREATE TABLE photo_band (
    band BIGINT NOT NULL,
    value BIGINT NOT NULL,
    photo_id TEXT NOT NULL REFERENCES photo (id),
    PRIMARY KEY (band, value, photo_id)
);
