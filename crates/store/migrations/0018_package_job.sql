-- A filing package being written in the background: its progress, then the
-- zip kept under packages/<id>.zip in the file store until newer ones
-- replace it (the newest few are kept).
CREATE TABLE package_job (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES framework (id),
    requested_by TEXT REFERENCES app_user (id),
    -- The zip's name as downloaded.
    file_name TEXT NOT NULL,
    -- running, done or failed
    state TEXT NOT NULL,
    files_total BIGINT NOT NULL,
    files_done BIGINT NOT NULL,
    bytes_total BIGINT NOT NULL,
    bytes_done BIGINT NOT NULL,
    -- The zip's size once written.
    size BIGINT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX package_job_created ON package_job (created_at);
