-- Questionnaires, survey waves and their anonymous answers (issue 16).

-- People living in a region (census), for sample plans and weights.
ALTER TABLE region ADD COLUMN population BIGINT;

-- A questionnaire's versions share a series; a published version is
-- locked, and a change to it becomes the next version.
CREATE TABLE questionnaire (
    id TEXT PRIMARY KEY,
    series_id TEXT NOT NULL,
    version_no BIGINT NOT NULL,
    title TEXT NOT NULL,
    -- The design (QuestionnaireDoc) as JSON.
    doc TEXT NOT NULL,
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (series_id, version_no)
);

CREATE TABLE survey_wave (
    id TEXT PRIMARY KEY,
    questionnaire_id TEXT NOT NULL REFERENCES questionnaire (id),
    name TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    -- draft, open or closed
    state TEXT NOT NULL,
    -- The target margin at 95%, in thousandths (50 = ±5 points).
    margin_permille BIGINT NOT NULL,
    min_n BIGINT NOT NULL,
    -- Sampled by community (clusters): intervals carry the design effect.
    clustered BIGINT NOT NULL,
    -- Per wave, so that a device's hash in one wave says nothing of another.
    salt TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

-- The communities a wave covers.
CREATE TABLE wave_region (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    region_id TEXT NOT NULL REFERENCES region (id),
    PRIMARY KEY (wave_id, region_id)
);

-- The plan's strata (community × age band × sex) and how many answers
-- each takes; a full one refuses more.
CREATE TABLE survey_quota (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    region_id TEXT NOT NULL REFERENCES region (id),
    age_band TEXT NOT NULL,
    sex TEXT NOT NULL,
    -- People of the stratum (census), the weights' base.
    population BIGINT NOT NULL,
    target BIGINT NOT NULL,
    filled BIGINT NOT NULL,
    PRIMARY KEY (wave_id, region_id, age_band, sex)
);

-- One filled questionnaire. Nothing here names who answered, how they were
-- reached or from which device: no account, no token, no device hash, and
-- only the day (not the time) it came in.
CREATE TABLE survey_response (
    id TEXT PRIMARY KEY,
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    region_id TEXT NOT NULL REFERENCES region (id),
    respondent_group TEXT NOT NULL,
    age_band TEXT NOT NULL,
    sex TEXT NOT NULL,
    -- interview, public or paper
    channel TEXT NOT NULL,
    answered_on TEXT NOT NULL,
    answers TEXT NOT NULL
);
CREATE INDEX survey_response_wave ON survey_response (wave_id, region_id);

-- Answers counted as they arrive, in the transaction that stores them, so
-- that results read a few thousand rows however many answers there are.
-- `value` is the answer (a choice code, a scale value, the chosen codes of
-- a multiple choice joined by commas; empty for text); `counted` is 1 when
-- it counts for the question's rate, 0 when it does not, and -1 when it
-- stays out of the rate's denominator or the question feeds none.
CREATE TABLE survey_tally (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    question_code TEXT NOT NULL,
    region_id TEXT NOT NULL,
    respondent_group TEXT NOT NULL,
    age_band TEXT NOT NULL,
    sex TEXT NOT NULL,
    value TEXT NOT NULL,
    counted BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (wave_id, question_code, region_id, respondent_group, age_band, sex, value)
);

-- Devices that have answered a public link: a salted hash of a cookie,
-- kept apart from the answers (no id, no time, nothing to join on).
CREATE TABLE survey_device (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    device_hash TEXT NOT NULL,
    PRIMARY KEY (wave_id, device_hash)
);

-- Contact attempts by disposition, counted per stratum (AAPOR rates).
CREATE TABLE survey_contact (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    region_id TEXT NOT NULL REFERENCES region (id),
    disposition TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (wave_id, region_id, disposition)
);
