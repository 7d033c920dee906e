-- Contacts sent from an interviewer's phone carry an id made there, kept
-- here so that a resend after a lost reply is not counted twice. Nothing
-- else is kept with it: the count it added is in survey_contact.
CREATE TABLE survey_contact_sent (
    wave_id TEXT NOT NULL REFERENCES survey_wave (id),
    client_id TEXT NOT NULL,
    PRIMARY KEY (wave_id, client_id)
);
