-- Web Push subscriptions: one per browser or app install that opted in,
-- for the account signed in there. An endpoint belongs to one account at a
-- time; signing in as another moves it. Revoked ones are kept for the audit.
CREATE TABLE push_subscriptions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id) WHERE revoked_at IS NULL;
