-- Each month's metrics as running sums per unit and region (what the
-- month's cases count for: reference/metrics.md, domain::metrics::tally),
-- kept in the transaction that changes a case, so the metrics page reads a
-- few hundred rows instead of every case of the month. '' stands for no
-- unit (not yet dispatched) or no region (no location), so that the key is
-- unique on both databases.
CREATE TABLE case_tally (
    month INTEGER NOT NULL,
    unit_id TEXT NOT NULL,
    region_id TEXT NOT NULL,
    registered BIGINT NOT NULL,
    from_inspector BIGINT NOT NULL,
    due BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    closed_on_time BIGINT NOT NULL,
    handled_of_due BIGINT NOT NULL,
    handled_on_time BIGINT NOT NULL,
    handled BIGINT NOT NULL,
    reworked BIGINT NOT NULL,
    handling_secs BIGINT NOT NULL,
    dispatched BIGINT NOT NULL,
    extended BIGINT NOT NULL,
    PRIMARY KEY (month, unit_id, region_id)
);

-- The sums are valid for one time zone and calendar: the row says for
-- which zone they were built; no row means they must be built again (after
-- a calendar change, or on a database that had cases before this table).
CREATE TABLE case_tally_built (
    id INTEGER PRIMARY KEY,
    zone TEXT NOT NULL,
    built_at BIGINT NOT NULL
);

-- Overdue now: the cases with their unit past the deadline, counted per
-- unit from the index alone (unit and region are in it too). Partial, so
-- that it holds only the few open cases and no other query (a unit's
-- closed cases, say) is tempted to read through it.
CREATE INDEX case_overdue ON case_record (deadline, unit_id, region_id)
    WHERE state IN ('dispatched', 'rework', 'awaiting_approval');
