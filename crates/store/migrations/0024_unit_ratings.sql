-- 民评官: residents rate the units that serve them (issue 16).

CREATE TABLE rating_round (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- points100 or three_level
    scale TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    -- draft, open or closed
    state TEXT NOT NULL,
    min_n BIGINT NOT NULL,
    -- Per round, so that a device's hash in one round says nothing of another.
    salt TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

-- The units a round rates.
CREATE TABLE rating_round_unit (
    round_id TEXT NOT NULL REFERENCES rating_round (id),
    unit_id TEXT NOT NULL REFERENCES unit (id),
    PRIMARY KEY (round_id, unit_id)
);

-- One rating. Like a survey answer it names no one and no device, and
-- keeps only the day. `value` is the points (0-100) or a level's value
-- (2 满意, 1 基本满意, 0 不满意).
CREATE TABLE unit_rating (
    id TEXT PRIMARY KEY,
    round_id TEXT NOT NULL REFERENCES rating_round (id),
    unit_id TEXT NOT NULL REFERENCES unit (id),
    value BIGINT NOT NULL,
    -- interview, public or paper
    channel TEXT NOT NULL,
    rated_on TEXT NOT NULL
);
CREATE INDEX unit_rating_round ON unit_rating (round_id, unit_id);

-- Devices that have rated a unit through the public link: a salted hash
-- of the phone's cookie, with nothing to join on to the rating.
CREATE TABLE rating_device (
    round_id TEXT NOT NULL REFERENCES rating_round (id),
    unit_id TEXT NOT NULL REFERENCES unit (id),
    device_hash TEXT NOT NULL,
    PRIMARY KEY (round_id, unit_id, device_hash)
);

-- Comments are kept apart from the ratings (a comment does not say which
-- score came with it) and are seen only by the office until approved.
CREATE TABLE rating_comment (
    id TEXT PRIMARY KEY,
    round_id TEXT NOT NULL REFERENCES rating_round (id),
    unit_id TEXT NOT NULL REFERENCES unit (id),
    body TEXT NOT NULL,
    -- pending, approved or rejected
    state TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    moderated_by TEXT REFERENCES app_user (id),
    moderated_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX rating_comment_round ON rating_comment (round_id, state);
