-- Inspection rounds (巡查, 督查, 模拟测评, third-party evaluations), the
-- sites each samples with the inspector sent there, and the findings: one
-- per site and standard, judged by the standard's observation rule.

-- How a standard is observed on site (JSON of domain::site::Observation);
-- NULL means met or not.
ALTER TABLE framework_node ADD COLUMN observation TEXT;

CREATE TABLE inspection_round (
    id TEXT PRIMARY KEY,
    -- patrol, supervision, mock or third_party
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- The framework whose standards are the checklists.
    framework_id TEXT NOT NULL REFERENCES framework (id),
    -- Calendar days in the city's zone, YYYY-MM-DD, both included.
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    -- How the sample was drawn, so it can be drawn again and checked.
    seed BIGINT NOT NULL,
    sample_size BIGINT NOT NULL,
    skip_days BIGINT,
    not_where_they_work BIGINT NOT NULL,
    not_twice_in_a_row BIGINT NOT NULL,
    -- open or closed
    status TEXT NOT NULL,
    created_by TEXT REFERENCES app_user (id),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX round_by_start ON inspection_round (starts_on);

CREATE TABLE round_site (
    round_id TEXT NOT NULL REFERENCES inspection_round (id),
    site_id TEXT NOT NULL REFERENCES site (id),
    position BIGINT NOT NULL,
    -- Nobody when no inspector could be sent without breaking the rotation.
    inspector_id TEXT REFERENCES app_user (id),
    -- When its last finding arrived.
    inspected_at BIGINT,
    PRIMARY KEY (round_id, site_id)
);
CREATE INDEX round_site_inspector ON round_site (inspector_id, round_id);
CREATE INDEX round_site_site ON round_site (site_id, inspected_at);

CREATE TABLE finding (
    -- Made by the inspector's device, so a resubmission is recognised.
    id TEXT PRIMARY KEY,
    round_id TEXT NOT NULL REFERENCES inspection_round (id),
    site_id TEXT NOT NULL REFERENCES site (id),
    standard_id TEXT NOT NULL REFERENCES framework_node (id),
    -- pass, fail or na
    outcome TEXT NOT NULL,
    -- What was recorded (JSON of domain::site::Recorded).
    recorded TEXT NOT NULL,
    note TEXT,
    inspector_id TEXT REFERENCES app_user (id),
    observed_at BIGINT NOT NULL,
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    -- Metres from the site when recorded; away = 1 when beyond its vicinity.
    distance_m DOUBLE PRECISION,
    away BIGINT NOT NULL,
    -- The case a failure opened.
    case_id TEXT REFERENCES case_record (id),
    created_at BIGINT NOT NULL,
    UNIQUE (round_id, site_id, standard_id)
);
CREATE INDEX finding_by_round ON finding (round_id, standard_id, outcome);
CREATE INDEX finding_by_site ON finding (site_id, observed_at);

-- A photo taken for a finding; a failure's photos are also the case's
-- "before" photos.
ALTER TABLE photo ADD COLUMN finding_id TEXT;
CREATE INDEX photo_finding ON photo (finding_id);

-- Rows of a third-party result that matched no site or standard, kept for
-- someone to map by hand rather than dropped.
CREATE TABLE round_unmatched (
    id TEXT PRIMARY KEY,
    round_id TEXT NOT NULL REFERENCES inspection_round (id),
    row_number BIGINT NOT NULL,
    place TEXT NOT NULL,
    standard_text TEXT NOT NULL,
    result TEXT NOT NULL,
    note TEXT,
    photo_names TEXT NOT NULL,
    -- Why it did not match: site, standard or result.
    reason TEXT NOT NULL,
    resolved_finding_id TEXT REFERENCES finding (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX round_unmatched_round ON round_unmatched (round_id, row_number);
