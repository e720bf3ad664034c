-- Integration: which institutions run their own complaint system, the API
-- clients that speak for them and their hashed keys, webhook subscriptions
-- with their delivery queue and attempt log, and the per-institution
-- changes feed.

-- native: the institution works in Lapor; connected: in its own system.
ALTER TABLE institutions ADD COLUMN integration_mode TEXT NOT NULL DEFAULT 'native';
CREATE INDEX institutions_connected ON institutions(code) WHERE integration_mode = 'connected';

CREATE TABLE api_clients (
    id          TEXT PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(code),
    -- The service account the client acts as: its actions go through the
    -- same rules and audit as a person's.
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX api_clients_institution ON api_clients(institution);

-- Long-lived keys (also the OAuth2 client secret) and short-lived OAuth2
-- access tokens, as SHA-256 digests only.
CREATE TABLE api_keys (
    key_hash     TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES api_clients(id),
    kind         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    -- Access tokens may carry fewer scopes than their client; NULL: all.
    scopes       TEXT
);
CREATE INDEX api_keys_client ON api_keys(client_id);

CREATE TABLE webhook_subscriptions (
    id          TEXT PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(code),
    url         TEXT NOT NULL,
    -- Signing secrets, newest first, each with the time it stops signing.
    secrets     JSONB NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT
);
CREATE INDEX webhook_subscriptions_institution ON webhook_subscriptions(institution) WHERE active;

-- One row per (subscription, event): the queue while pending, the log after.
CREATE TABLE webhook_deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  TEXT NOT NULL REFERENCES webhook_subscriptions(id),
    event_id         BIGINT NOT NULL,
    tracking_id      TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    available_at     TIMESTAMPTZ NOT NULL,
    first_attempt_at TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    last_status      BIGINT,
    last_latency_ms  BIGINT,
    last_error       TEXT,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(available_at) WHERE state = 'pending';
-- Per-report order: only the earliest pending event of a report is sent.
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(subscription_id, tracking_id, seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(subscription_id, id);

CREATE TABLE webhook_attempts (
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt     BIGINT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    status      BIGINT,
    latency_ms  BIGINT NOT NULL,
    error       TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- The changes feed of each connected institution. Ids are handed out before
-- commit, so a reader could pass over a row that commits late; ordering by
-- the writing transaction's id and reading only transactions older than
-- every running one (pg_snapshot_xmin) never skips one.
CREATE TABLE integration_changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    institution TEXT NOT NULL,
    event_id    BIGINT NOT NULL
);
CREATE INDEX integration_changes_feed ON integration_changes(institution, tx, id);

-- Actions a connected system sent with its own id (a follow-up, a status
-- change): written with the action's events, so a resend is recognised
-- instead of applied twice.
CREATE TABLE action_keys (
    key         TEXT PRIMARY KEY,
    tracking_id TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- Open311 updates (FixMyStreet's servicerequestupdates) read events by time.
CREATE INDEX report_events_at ON report_events(at);

-- Reports this instance reports upward to another system (the national
-- SP4N-LAPOR! v3 API): the remote id, how far our events were sent, and how
-- many of its follow-up logs were brought back.
CREATE TABLE upstream_refs (
    system      TEXT NOT NULL,
    tracking_id TEXT NOT NULL,
    remote_id   TEXT NOT NULL,
    sent_seq    BIGINT NOT NULL,
    logs_seen   BIGINT NOT NULL,
    closed      BOOLEAN NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (system, tracking_id)
);
CREATE INDEX upstream_refs_open ON upstream_refs(system, updated_at) WHERE NOT closed;
CREATE INDEX upstream_refs_remote ON upstream_refs(system, remote_id);

-- The upstream system's institutions, matched to ours by name.
CREATE TABLE upstream_institutions (
    system     TEXT NOT NULL,
    remote_id  BIGINT NOT NULL,
    name       TEXT NOT NULL,
    local_code TEXT,
    PRIMARY KEY (system, remote_id)
);
CREATE INDEX upstream_institutions_local ON upstream_institutions(system, local_code);
