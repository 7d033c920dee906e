-- Ranking lists (红黑榜, 十佳十差) with two-person approval, frozen
-- publication, corrections and appeals (issue 17).

-- A list's definition (JSON of domain::ranking::ListSpec).
CREATE TABLE ranking_list (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    spec TEXT NOT NULL,
    public BIGINT NOT NULL,
    created_by TEXT REFERENCES app_user (id),
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

-- One computed edition of a list: a draft until a second office account
-- approves it, then published and frozen; a correction is the next
-- edition, with its reason, and the one it corrects is kept (superseded).
CREATE TABLE ranking_edition (
    id TEXT PRIMARY KEY,
    list_id TEXT NOT NULL REFERENCES ranking_list (id),
    number BIGINT NOT NULL,
    -- draft, approved, published or superseded
    state TEXT NOT NULL,
    -- JSON array of domain::ranking::Entry
    entries TEXT NOT NULL,
    reason TEXT,
    computed_at BIGINT NOT NULL,
    drafted_by TEXT REFERENCES app_user (id),
    approved_by TEXT REFERENCES app_user (id),
    approved_at BIGINT,
    published_at BIGINT,
    version BIGINT NOT NULL,
    UNIQUE (list_id, number)
);

-- A unit's appeal against its entry on a published edition.
CREATE TABLE ranking_appeal (
    id TEXT PRIMARY KEY,
    edition_id TEXT NOT NULL REFERENCES ranking_edition (id),
    subject_id TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES unit (id),
    reason TEXT NOT NULL,
    -- pending, upheld or rejected
    state TEXT NOT NULL,
    decision TEXT,
    decided_by TEXT REFERENCES app_user (id),
    created_by TEXT REFERENCES app_user (id),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX ranking_appeal_by_edition ON ranking_appeal (edition_id, state);
-- One open appeal an entry.
CREATE UNIQUE INDEX ranking_appeal_pending ON ranking_appeal (edition_id, subject_id) WHERE state = 'pending';
