-- Overdue escalation, in-app notifications, outbound webhooks, and the
-- lease that lets one instance of several run each background job.

ALTER TABLE case_record ADD COLUMN escalated_at BIGINT;
ALTER TABLE case_record ADD COLUMN escalation_level BIGINT NOT NULL DEFAULT 0;
ALTER TABLE case_record ADD COLUMN next_escalation_at BIGINT;
CREATE INDEX case_deadline ON case_record (deadline);

CREATE TABLE job_lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);

CREATE TABLE notification (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user (id),
    kind TEXT NOT NULL,
    case_id TEXT REFERENCES case_record (id),
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notification_user ON notification (user_id, created_at);

-- Outbox: a delivery is written in the same transaction as what it tells,
-- then sent (and retried) by the delivery job.
CREATE TABLE webhook_delivery (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_due ON webhook_delivery (next_attempt_at);
