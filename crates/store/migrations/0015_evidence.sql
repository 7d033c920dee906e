-- The evidence archive (台账): what proves each standard, the materials
-- units file for it, and the office's decisions. A file is stored once by
-- its SHA-256 and may prove several requirements; each offer of a material
-- for a requirement is a submission with its own review.
ALTER TABLE framework ADD COLUMN evaluation_on TEXT;
ALTER TABLE framework ADD COLUMN window_months BIGINT NOT NULL DEFAULT 12;

CREATE TABLE evidence_requirement (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES framework (id),
    standard_id TEXT NOT NULL REFERENCES framework_node (id),
    evidence_type TEXT NOT NULL,
    -- What the material must show.
    title TEXT NOT NULL,
    -- How many accepted materials inside the window meet it.
    needed BIGINT NOT NULL,
    -- Who provides it: the standard's lead unit by default.
    unit_id TEXT REFERENCES unit (id),
    -- YYYY-MM-DD in the city's calendar.
    due_on TEXT,
    -- Where wenming builds the material from (JSON, domain::evidence::Source),
    -- instead of waiting for an upload.
    source TEXT,
    position BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX evidence_requirement_standard ON evidence_requirement (framework_id, standard_id, position);
CREATE INDEX evidence_requirement_unit ON evidence_requirement (unit_id);

CREATE TABLE evidence_file (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    stored_at BIGINT NOT NULL
);

CREATE TABLE material (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES evidence_file (sha256),
    evidence_type TEXT NOT NULL,
    title TEXT NOT NULL,
    -- The document's own date (YYYY-MM-DD), which the window is judged by.
    doc_date TEXT NOT NULL,
    -- 文号, for a policy document.
    doc_number TEXT,
    file_name TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES unit (id),
    uploaded_by TEXT REFERENCES app_user (id),
    -- For a generated material: its source, the SHA-256 of the data it was
    -- made from and when that data was read (JSON).
    generated_from TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX material_unit ON material (unit_id, created_at);
CREATE INDEX material_file ON material (sha256);

CREATE TABLE submission (
    id TEXT PRIMARY KEY,
    requirement_id TEXT NOT NULL REFERENCES evidence_requirement (id),
    material_id TEXT NOT NULL REFERENCES material (id),
    -- submitted, accepted or returned
    state TEXT NOT NULL,
    reason TEXT,
    submitted_by TEXT REFERENCES app_user (id),
    submitted_at BIGINT NOT NULL,
    decided_by TEXT REFERENCES app_user (id),
    decided_at BIGINT,
    version BIGINT NOT NULL,
    UNIQUE (requirement_id, material_id)
);
CREATE INDEX submission_material ON submission (material_id);
CREATE INDEX submission_state ON submission (state, submitted_at);
