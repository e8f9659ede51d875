-- One row per VOD whose conversion has started: start_convert is published
-- in the transaction that inserts the row, so a retried or resumed
-- conversion job never announces itself twice. Times are unix milliseconds.
CREATE TABLE vod_conversions (
    vod_id      INTEGER PRIMARY KEY REFERENCES vods (id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    success     INTEGER,
    reason      TEXT    NOT NULL DEFAULT ''
);
