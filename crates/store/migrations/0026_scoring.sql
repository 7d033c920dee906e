-- The projected score (issue 17): what the office records beside the
-- measured data, and the projection kept month by month.

-- The office's own assessment of one method of a standard for a year:
-- a review score (材料审核测评表), 听取汇报, 整体观察, or a statistic against
-- its threshold. `share` is 0-1; for a statistic it is derived from
-- value and threshold and kept with them.
CREATE TABLE score_assessment (
    id TEXT PRIMARY KEY,
    standard_id TEXT NOT NULL REFERENCES framework_node (id),
    year BIGINT NOT NULL,
    method TEXT NOT NULL,
    share DOUBLE PRECISION NOT NULL,
    stat_value DOUBLE PRECISION,
    stat_threshold DOUBLE PRECISION,
    -- 1 when more is better (per-capita volunteers), 0 when less is.
    stat_higher_better BIGINT,
    note TEXT NOT NULL,
    evidence_url TEXT,
    recorded_by TEXT REFERENCES app_user (id),
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (standard_id, year, method)
);

-- How a standard's survey rate becomes its share: nothing at `floor`,
-- everything at `target` (by default 60% and 90%).
CREATE TABLE score_survey_rule (
    standard_id TEXT PRIMARY KEY REFERENCES framework_node (id),
    floor DOUBLE PRECISION NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL
);

-- An event of the framework's negative list, as the office recorded it.
CREATE TABLE negative_event (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES framework (id),
    rule_code TEXT NOT NULL,
    occurred_on TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT REFERENCES app_user (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX negative_event_by_day ON negative_event (framework_id, occurred_on);

-- A gate's evaluation (the minors' evaluation) for a year.
CREATE TABLE gate_result (
    framework_id TEXT NOT NULL REFERENCES framework (id),
    gate_name TEXT NOT NULL,
    year BIGINT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT REFERENCES app_user (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (framework_id, gate_name, year)
);

-- The official annual score of a year, for the three-year cycle.
CREATE TABLE annual_result (
    year BIGINT PRIMARY KEY,
    score DOUBLE PRECISION NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT REFERENCES app_user (id),
    updated_at BIGINT NOT NULL
);

-- The projection as it stood: kept so that a trend is history, not a
-- recomputation over data that has changed since. `doc` is the JSON of
-- the whole projection (every standard's share and its sources).
CREATE TABLE score_snapshot (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES framework (id),
    taken_on TEXT NOT NULL,
    -- monthly (the job) or on_demand
    kind TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    low DOUBLE PRECISION NOT NULL,
    high DOUBLE PRECISION NOT NULL,
    standing TEXT NOT NULL,
    doc TEXT NOT NULL,
    taken_by TEXT REFERENCES app_user (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX score_snapshot_by_day ON score_snapshot (framework_id, taken_on);
-- One monthly snapshot a framework and month, whichever instance takes it.
CREATE UNIQUE INDEX score_snapshot_monthly ON score_snapshot (framework_id, substr(taken_on, 1, 7))
    WHERE kind = 'monthly';
