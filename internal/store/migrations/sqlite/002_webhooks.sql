-- Webhook endpoints, the delivery outbox and the log of every attempt.

CREATE TABLE webhook_endpoints (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    url                   TEXT    NOT NULL,
    secret                TEXT    NOT NULL,              -- whsec_ + base64
    previous_secret       TEXT    NOT NULL DEFAULT '',   -- still signed with during a rotation's grace
    previous_secret_until INTEGER,                       -- unix ms; NULL when no grace is running
    actions               TEXT    NOT NULL DEFAULT '[]', -- JSON array; [] = default filter, ["*"] = all
    description           TEXT    NOT NULL DEFAULT '',
    enabled               INTEGER NOT NULL DEFAULT 1,
    disabled_reason       TEXT    NOT NULL DEFAULT '',
    failing_since         INTEGER,                       -- unix ms of the first failure since the last success
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- One row per (event, endpoint) to deliver; replays add rows.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    status          TEXT    NOT NULL,           -- pending, succeeded, failed
    attempts        INTEGER NOT NULL DEFAULT 0, -- attempts made so far
    next_attempt_at INTEGER,                    -- unix ms; NULL once the delivery is final
    last_code       INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    replay_of       INTEGER,                    -- the delivery this one replays, if any
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Retries are claimed by due time; only pending rows are ever claimed.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, status, created_at);

-- Every HTTP attempt, newest last.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id  INTEGER NOT NULL, -- copied from the delivery so the log lists by endpoint
    attempt      INTEGER NOT NULL, -- from 1
    attempted_at INTEGER NOT NULL, -- unix ms
    status_code  INTEGER NOT NULL, -- 0 when no response arrived
    latency_ms   INTEGER NOT NULL,
    error        TEXT    NOT NULL DEFAULT '',
    response     TEXT    NOT NULL DEFAULT ''  -- truncated response body
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
CREATE INDEX webhook_attempts_attempted_at ON webhook_attempts (attempted_at);
