-- One migration set for SQLite and PostgreSQL: portable types only.
-- Instants are BIGINT microseconds since the Unix epoch (UTC); ids are UUID
-- text; flags are BIGINT 0/1; JSON is opaque TEXT.

CREATE TABLE region (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES region (id),
    level TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    boundary TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX region_parent ON region (parent_id);

-- Where a region sat in the tree, and under which name, over time.
CREATE TABLE region_placement (
    id TEXT PRIMARY KEY,
    region_id TEXT NOT NULL REFERENCES region (id),
    parent_id TEXT REFERENCES region (id),
    name TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT
);
CREATE INDEX region_placement_region ON region_placement (region_id, valid_from);

CREATE TABLE unit (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    short_name TEXT,
    kind TEXT NOT NULL,
    region_id TEXT NOT NULL REFERENCES region (id),
    liaison_name TEXT,
    liaison_phone TEXT,
    head_name TEXT,
    head_phone TEXT,
    active BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX unit_region ON unit (region_id);
CREATE INDEX unit_name ON unit (name, id);

CREATE TABLE app_user (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    phone TEXT UNIQUE,
    unit_id TEXT REFERENCES unit (id),
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL,
    must_change_password BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE role_grant (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user (id),
    role TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, role, scope_kind, scope_id)
);

-- Failed logins per login name, whether or not an account has that name.
CREATE TABLE login_throttle (
    login_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT,
    last_failure_at BIGINT NOT NULL
);

-- Only a hash of the session id is kept, so a copy of the database does not
-- hand out live sessions.
CREATE TABLE user_session (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE api_token (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    read_only BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_token_user ON api_token (user_id);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    request_id TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, seq);

-- The chain's head: updating it first in every audited transaction
-- serialises writers on PostgreSQL and records what the last row must be.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE app_setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
