-- Citizen web app: full-text search postings, attachments, supports and
-- notification preferences. See the SQLite migration for the reasoning.

CREATE TABLE report_terms (
    term    TEXT NOT NULL,
    sort_at TIMESTAMPTZ NOT NULL,
    doc     TEXT NOT NULL,
    PRIMARY KEY (term, sort_at, doc)
);
CREATE INDEX report_terms_doc ON report_terms(doc, term);

CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    tracking_id TEXT NOT NULL REFERENCES reports(tracking_id),
    seq         BIGINT NOT NULL,
    media_type  TEXT NOT NULL,
    filename    TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    data        BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tracking_id, seq)
);

CREATE TABLE supports (
    tracking_id TEXT NOT NULL REFERENCES reports(tracking_id),
    supporter   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tracking_id, supporter)
);

ALTER TABLE users ADD COLUMN notify_email BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN notify_sms BOOLEAN NOT NULL DEFAULT TRUE;
