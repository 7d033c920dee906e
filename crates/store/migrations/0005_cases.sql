-- Cases: the closed loop from a reported problem to verified closure.

-- Two-level problem catalogue (大类 / 小类); a subclass carries the
-- handling deadline and the duplicate radius.
CREATE TABLE category (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES category (id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    deadline_amount BIGINT,
    deadline_unit TEXT,
    duplicate_radius_m BIGINT,
    standard_codes TEXT NOT NULL,
    site_types TEXT NOT NULL,
    active BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX category_parent ON category (parent_id, code);

-- (category, area) → unit; the most specific rule wins.
CREATE TABLE routing_rule (
    id TEXT PRIMARY KEY,
    category_id TEXT REFERENCES category (id),
    region_id TEXT REFERENCES region (id),
    unit_id TEXT NOT NULL REFERENCES unit (id),
    created_at BIGINT NOT NULL
);

-- Public holidays and make-up working days, as data.
CREATE TABLE calendar_day (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);

-- Human case numbers: 2026-000123.
CREATE TABLE case_number (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE case_record (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    category_id TEXT NOT NULL REFERENCES category (id),
    description TEXT NOT NULL,
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    address TEXT,
    region_id TEXT REFERENCES region (id),
    reporter_name TEXT,
    reporter_phone TEXT,
    reported_by TEXT,
    state TEXT NOT NULL,
    unit_id TEXT REFERENCES unit (id),
    suggested_unit_id TEXT REFERENCES unit (id),
    deadline BIGINT,
    pending_ask TEXT,
    before_ask TEXT,
    dispatched_by TEXT NOT NULL,
    handled_by TEXT NOT NULL,
    reworks BIGINT NOT NULL,
    extensions BIGINT NOT NULL,
    evaluated BIGINT NOT NULL,
    duplicate_of TEXT REFERENCES case_record (id),
    reported_at BIGINT NOT NULL,
    registered_at BIGINT,
    dispatched_at BIGINT,
    handled_at BIGINT,
    closed_at BIGINT,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX case_unit_state ON case_record (unit_id, state, deadline);
CREATE INDEX case_state ON case_record (state, reported_at);
CREATE INDEX case_category ON case_record (category_id, state);
CREATE INDEX case_region ON case_record (region_id);
CREATE INDEX case_reported ON case_record (reported_at, id);

-- Every step taken on a case: who, when, why.
CREATE TABLE case_event (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES case_record (id),
    step TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    note TEXT,
    data TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX case_event_case ON case_event (case_id, at);
