-- Task decomposition (任务分解): each standard of a framework assigned to a
-- lead unit, with cooperating units, a quantified target, a deadline (a
-- local calendar date, YYYY-MM-DD) and a named responsible person.
CREATE TABLE task (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES framework (id),
    standard_id TEXT NOT NULL UNIQUE REFERENCES framework_node (id),
    lead_unit_id TEXT NOT NULL REFERENCES unit (id),
    target TEXT NOT NULL,
    deadline TEXT NOT NULL,
    responsible_person_id TEXT REFERENCES person (id),
    progress BIGINT NOT NULL,
    progress_note TEXT,
    progress_at BIGINT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX task_lead ON task (lead_unit_id, deadline);
CREATE INDEX task_framework ON task (framework_id, deadline);

CREATE TABLE task_unit (
    task_id TEXT NOT NULL REFERENCES task (id),
    unit_id TEXT NOT NULL REFERENCES unit (id),
    PRIMARY KEY (task_id, unit_id)
);
CREATE INDEX task_unit_unit ON task_unit (unit_id);

-- Every progress report, newest last; the task row holds the latest.
CREATE TABLE task_progress (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES task (id),
    percent BIGINT NOT NULL,
    note TEXT,
    reported_by TEXT NOT NULL,
    reported_at BIGINT NOT NULL
);
CREATE INDEX task_progress_task ON task_progress (task_id, reported_at);
