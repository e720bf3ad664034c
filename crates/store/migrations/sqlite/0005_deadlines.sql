-- Deadlines that bite: the scheduler's state on each report, the delivery
-- workers' bookkeeping, the staff inbox, editable notification templates,
-- addresses that bounce, and holiday files imported at runtime.

ALTER TABLE reports ADD COLUMN reminded_due INTEGER;
ALTER TABLE reports ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN ombudsman TEXT;
-- The earliest moment one of the report's timers (reminder, escalation,
-- auto-completion, Ombudsman offer) needs the scheduler; NULL when none.
-- A scheduler pass reads this index only.
ALTER TABLE reports ADD COLUMN wake_at INTEGER;
CREATE INDEX reports_wake ON reports(wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX reports_ombudsman ON reports(ombudsman, submitted_at) WHERE ombudsman IS NOT NULL;

ALTER TABLE outbox ADD COLUMN delivered_at INTEGER;
ALTER TABLE outbox ADD COLUMN last_attempt_at INTEGER;

CREATE TABLE staff_notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users(id),
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    tracking_id TEXT,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    read_at     INTEGER
);
CREATE INDEX staff_notifications_user ON staff_notifications(user_id, at);

CREATE TABLE notification_templates (
    name       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (name, lang)
);

CREATE TABLE undeliverable_addresses (
    address TEXT PRIMARY KEY,
    reason  TEXT NOT NULL,
    at      INTEGER NOT NULL
);

CREATE TABLE holiday_files (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at INTEGER NOT NULL,
    source      TEXT NOT NULL,
    csv         TEXT NOT NULL,
    provisional TEXT NOT NULL
);
