-- Institution workspace: staff sign-in security, routing rules, reply
-- templates, follow-up attachments and the indexes the queues need.

ALTER TABLE reports ADD COLUMN liaison TEXT;
ALTER TABLE reports ADD COLUMN extension_count INTEGER NOT NULL DEFAULT 0;
-- The verification queue: one status, oldest first.
CREATE INDEX reports_status_submitted ON reports(status, submitted_at, tracking_id);
CREATE INDEX reports_liaison ON reports(liaison) WHERE liaison IS NOT NULL;

-- Two-factor authentication and lockout. The TOTP secret is base32; the last
-- accepted time step makes every code single-use, across nodes.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

-- Recovery codes, stored as digests; each works once.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;

-- Sessions show where they were opened, so a user can tell them apart.
ALTER TABLE tokens ADD COLUMN user_agent TEXT;

-- Forms the workspace issued and that were already submitted (replay guard).
CREATE TABLE form_nonces (
    nonce      TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX form_nonces_expiry ON form_nonces(expires_at);

-- Admin-defined routing: category × region level → institution (the
-- institution may contain {region}, filled from the report's region).
CREATE TABLE routing_rules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    category     TEXT,
    region_level INTEGER,
    institution  TEXT NOT NULL,
    created_by   TEXT,
    created_at   INTEGER NOT NULL
);

-- Reply templates per institution.
CREATE TABLE reply_templates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    institution TEXT NOT NULL REFERENCES institutions(code),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (institution, name)
);

-- Follow-ups carry files too: which event an attachment belongs to.
ALTER TABLE attachments ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 1;

CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_user ON audit_log(user_id, at);
CREATE INDEX memberships_institution ON memberships(institution);
