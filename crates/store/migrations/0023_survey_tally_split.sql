-- A wave's results read two small tallies instead of one wide one: the
-- rates need only how many answered and how many counted per stratum, and
-- the distributions only how many gave each answer per community. At a
-- million answers the wide tally held every (stratum, answer) pair and
-- reading it was most of the results' time.

CREATE TABLE survey_rate_tally (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    question_code TEXT NOT NULL,
    region_id TEXT NOT NULL,
    respondent_group TEXT NOT NULL,
    age_band TEXT NOT NULL,
    sex TEXT NOT NULL,
    -- Answers in the rate's denominator, and those that count for it.
    n BIGINT NOT NULL,
    yes BIGINT NOT NULL,
    PRIMARY KEY (wave_id, question_code, region_id, respondent_group, age_band, sex)
);

INSERT INTO survey_rate_tally (wave_id, question_code, region_id, respondent_group, age_band, sex, n, yes)
SELECT wave_id, question_code, region_id, respondent_group, age_band, sex,
       SUM(n), SUM(CASE WHEN counted = 1 THEN n ELSE 0 END)
FROM survey_tally WHERE counted >= 0
GROUP BY wave_id, question_code, region_id, respondent_group, age_band, sex;

-- `value` is a choice code, a scale value, or a multiple choice's chosen
-- codes joined by commas; text answers are not tallied.
CREATE TABLE survey_answer_tally (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    question_code TEXT NOT NULL,
    region_id TEXT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (wave_id, question_code, region_id, value)
);

INSERT INTO survey_answer_tally (wave_id, question_code, region_id, value, n)
SELECT wave_id, question_code, region_id, value, SUM(n)
FROM survey_tally WHERE value <> ''
GROUP BY wave_id, question_code, region_id, value;

DROP TABLE survey_tally;
