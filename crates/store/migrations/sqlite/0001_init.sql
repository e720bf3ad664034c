-- Lapor schema, SQLite dialect. Timestamps are INTEGER unix milliseconds
-- (SQLite has no native timestamp); dates are ISO 'YYYY-MM-DD' text.

CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    level       INTEGER NOT NULL,          -- 1 province, 2 regency/city, 3 district, 4 village
    parent_code TEXT,
    name        TEXT NOT NULL,
    postal_code TEXT
) WITHOUT ROWID;
CREATE INDEX regions_parent ON regions(parent_code);

CREATE TABLE institutions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_code TEXT REFERENCES institutions(code),
    region_code TEXT,
    zone        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX institutions_parent ON institutions(parent_code);
CREATE INDEX institutions_region ON institutions(region_code);

CREATE TABLE categories (
    code    TEXT PRIMARY KEY,
    name_id TEXT NOT NULL,
    name_en TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT UNIQUE,
    phone         TEXT UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_staff      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    user_id     TEXT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    institution TEXT NOT NULL REFERENCES institutions(code),
    PRIMARY KEY (user_id, role, institution)
) WITHOUT ROWID;

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    kind       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens(user_id);

-- Reporter identity lives apart from reports: institution-side queries never
-- join it.
CREATE TABLE reporters (
    id         TEXT PRIMARY KEY,
    user_id    TEXT REFERENCES users(id),
    name       TEXT,
    email      TEXT,
    phone      TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX reporters_user ON reporters(user_id);

CREATE TABLE reports (
    tracking_id           TEXT PRIMARY KEY,
    version               INTEGER NOT NULL,
    status                TEXT NOT NULL,
    classification        TEXT NOT NULL,
    needs_investigation   INTEGER NOT NULL,
    category              TEXT,
    title                 TEXT NOT NULL,
    body                  TEXT NOT NULL,
    incident_date         TEXT,
    region_code           TEXT,
    latitude              REAL,
    longitude             REAL,
    anonymous             INTEGER NOT NULL,
    confidential          INTEGER NOT NULL,
    channel               TEXT NOT NULL,
    reporter_id           TEXT,
    suggested_institution TEXT,
    institution           TEXT,
    unit                  TEXT,
    zone                  TEXT NOT NULL,
    policy                TEXT NOT NULL,
    stage                 TEXT,
    due_at                INTEGER,
    held_from             TEXT,
    held_at               INTEGER,
    rating                INTEGER,
    rating_comment        TEXT,
    reopen_count          INTEGER NOT NULL,
    transfer_count        INTEGER NOT NULL,
    archive_reason        TEXT,
    merged_into           TEXT,
    submitted_at          INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    first_response_at     INTEGER,
    completed_at          INTEGER,
    pin_hash              TEXT NOT NULL,
    idempotency_key       TEXT UNIQUE
);
CREATE INDEX reports_submitted ON reports(submitted_at, tracking_id);
CREATE INDEX reports_status_due ON reports(status, due_at);
CREATE INDEX reports_institution ON reports(institution, submitted_at);
CREATE INDEX reports_unit ON reports(unit) WHERE unit IS NOT NULL;
CREATE INDEX reports_region ON reports(region_code);
CREATE INDEX reports_reporter ON reports(reporter_id);

CREATE TABLE report_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tracking_id       TEXT NOT NULL REFERENCES reports(tracking_id),
    seq               INTEGER NOT NULL,
    at                INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    actor             TEXT NOT NULL,
    from_status       TEXT,
    to_status         TEXT NOT NULL,
    from_institution  TEXT,
    to_institution    TEXT,
    visibility        TEXT NOT NULL,
    body              TEXT,
    data              TEXT NOT NULL,
    UNIQUE (tracking_id, seq)
);

-- Everything that must leave the system, written in the same transaction as
-- the events that caused it. Delivered at least once by the workers.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL,
    key          TEXT NOT NULL UNIQUE,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'pending',
    last_error   TEXT
);
CREATE INDEX outbox_pending ON outbox(state, available_at);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    user_id  TEXT,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT
);
CREATE INDEX audit_log_target ON audit_log(target);

-- Instance-wide settings, such as the secret that keys PIN digests.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
