-- The event log: every published event, in seq order, with the exact bytes
-- that webhooks and websocket clients receive.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    action     TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- unix ms
    body       BLOB    NOT NULL  -- the JSON envelope
);
CREATE INDEX events_action_seq ON events (action, seq);
CREATE INDEX events_created_at ON events (created_at);
