-- Citizen web app: full-text search postings, attachments, supports and
-- notification preferences.

-- Inverted index of stemmed terms (see lapor_domain::search), written in the
-- same transaction as the report, so search is never behind committed data.
-- The key orders each term's postings newest first, which is the order
-- results are listed in; the second index answers "does report X have term T".
CREATE TABLE report_terms (
    term    TEXT NOT NULL,
    sort_at INTEGER NOT NULL,   -- the report's submitted_at
    doc     TEXT NOT NULL,      -- the report's tracking_id
    PRIMARY KEY (term, sort_at, doc)
) WITHOUT ROWID;
CREATE INDEX report_terms_doc ON report_terms(doc, term);

-- Files attached to a report, already sniffed and stripped of metadata. They
-- live in the database so they commit (and are backed up) with the report.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    tracking_id TEXT NOT NULL REFERENCES reports(tracking_id),
    seq         INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    filename    TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    data        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (tracking_id, seq)
);

-- "Dukung": one support per account or browser for a report.
CREATE TABLE supports (
    tracking_id TEXT NOT NULL REFERENCES reports(tracking_id),
    supporter   TEXT NOT NULL,  -- 'u:<user id>' or 'b:<digest of browser id>'
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tracking_id, supporter)
) WITHOUT ROWID;

ALTER TABLE users ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_sms INTEGER NOT NULL DEFAULT 1;
