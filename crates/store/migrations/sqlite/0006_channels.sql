-- Channels: who wrote on which platform, their chatbot conversations,
-- every inbound message (deduplicated on the platform's id), the social
-- media handler inbox, and the staff-edited block list.

CREATE TABLE channel_identities (
    channel     TEXT NOT NULL,
    sender      TEXT NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES reporters(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel, sender)
);
CREATE INDEX channel_identities_reporter ON channel_identities(reporter_id, channel);

CREATE TABLE conversations (
    channel    TEXT NOT NULL,
    sender     TEXT NOT NULL,
    state      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- When an unfinished conversation times out; NULL when idle.
    expires_at INTEGER,
    PRIMARY KEY (channel, sender)
);
CREATE INDEX conversations_expiry ON conversations(expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE inbound_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    sender      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    text        TEXT NOT NULL,
    -- handled | inbox | blocked | limited
    outcome     TEXT NOT NULL,
    tracking_id TEXT,
    UNIQUE (channel, platform_id)
);
CREATE INDEX inbound_messages_sender ON inbound_messages(channel, sender, received_at);

CREATE TABLE inbox_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    channel     TEXT NOT NULL,
    sender      TEXT NOT NULL,
    sender_name TEXT,
    received_at INTEGER NOT NULL,
    -- why it is here: untagged | abandoned | declined | unanswered
    reason      TEXT NOT NULL,
    text        TEXT NOT NULL,
    draft       TEXT,
    -- open | converted | dismissed
    state       TEXT NOT NULL DEFAULT 'open',
    tracking_id TEXT,
    handled_by  TEXT,
    handled_at  INTEGER
);
CREATE INDEX inbox_items_state ON inbox_items(state, received_at);

CREATE TABLE channel_blocks (
    channel    TEXT NOT NULL,
    sender     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel, sender)
);
