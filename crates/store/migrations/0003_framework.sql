-- Evaluation frameworks (测评体系): versions, their trees, and the units
-- that lead or cooperate on each standard. Methods and evidence types are
-- comma-separated codes; site types a JSON array of names.
CREATE TABLE framework (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    year BIGINT NOT NULL,
    status TEXT NOT NULL,
    basic_total BIGINT,
    featured_total BIGINT,
    settings TEXT NOT NULL,
    cloned_from TEXT REFERENCES framework (id),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (name, year)
);

CREATE TABLE framework_node (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES framework (id),
    parent_id TEXT REFERENCES framework_node (id),
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    position BIGINT NOT NULL,
    depth BIGINT NOT NULL,
    declared_points BIGINT,
    points BIGINT,
    methods TEXT,
    featured BIGINT,
    site_types TEXT,
    evidence_types TEXT,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (framework_id, code)
);
CREATE INDEX framework_node_tree ON framework_node (framework_id, parent_id, position);

CREATE TABLE standard_unit (
    node_id TEXT NOT NULL REFERENCES framework_node (id),
    unit_id TEXT NOT NULL REFERENCES unit (id),
    role TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (node_id, unit_id)
);
CREATE INDEX standard_unit_unit ON standard_unit (unit_id);

-- An uploaded framework between its preview and the user's confirmation.
CREATE TABLE framework_upload (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user (id),
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
