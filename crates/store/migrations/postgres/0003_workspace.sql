-- Institution workspace: staff sign-in security, routing rules, reply
-- templates, follow-up attachments and the indexes the queues need.

ALTER TABLE reports ADD COLUMN liaison TEXT;
ALTER TABLE reports ADD COLUMN extension_count BIGINT NOT NULL DEFAULT 0;
-- The verification queue: one status, oldest first.
CREATE INDEX reports_status_submitted ON reports(status, submitted_at, tracking_id);
CREATE INDEX reports_liaison ON reports(liaison) WHERE liaison IS NOT NULL;

-- Two-factor authentication and lockout. The TOTP secret is base32; the last
-- accepted time step makes every code single-use, across nodes.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;

-- Recovery codes, stored as digests; each works once.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- Sessions show where they were opened, so a user can tell them apart.
ALTER TABLE tokens ADD COLUMN user_agent TEXT;

-- Forms the workspace issued and that were already submitted (replay guard).
CREATE TABLE form_nonces (
    nonce      TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX form_nonces_expiry ON form_nonces(expires_at);

-- Admin-defined routing: category × region level → institution (the
-- institution may contain {region}, filled from the report's region).
CREATE TABLE routing_rules (
    id           BIGSERIAL PRIMARY KEY,
    category     TEXT,
    region_level BIGINT,
    institution  TEXT NOT NULL,
    created_by   TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);

-- Reply templates per institution.
CREATE TABLE reply_templates (
    id          BIGSERIAL PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(code),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (institution, name)
);

-- Follow-ups carry files too: which event an attachment belongs to.
ALTER TABLE attachments ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 1;

CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_user ON audit_log(user_id, at);
CREATE INDEX memberships_institution ON memberships(institution);
