-- The library: watched channels, their recordings (VODs), each VOD's
-- chapters and files. Times are unix milliseconds.
CREATE TABLE channels (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL UNIQUE,
    provider          TEXT    NOT NULL DEFAULT 'stream' CHECK (provider IN ('stream', 'twitch')),
    url               TEXT    NOT NULL,
    quality           TEXT    NOT NULL DEFAULT 'best',
    backend           TEXT    NOT NULL DEFAULT 'auto' CHECK (backend IN ('auto', 'streamlink', 'ffmpeg')),
    poll_interval_sec INTEGER NOT NULL DEFAULT 60 CHECK (poll_interval_sec >= 15),
    enabled           INTEGER NOT NULL DEFAULT 1,
    keep_last         INTEGER NOT NULL DEFAULT 0 CHECK (keep_last >= 0),
    keep_gb           REAL    NOT NULL DEFAULT 0 CHECK (keep_gb >= 0),
    is_live           INTEGER NOT NULL DEFAULT 0,
    title             TEXT    NOT NULL DEFAULT '',
    category          TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- AUTOINCREMENT: a deleted VOD's id is never handed to another VOD, since
-- webhook receivers may still hold it.
CREATE TABLE vods (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE RESTRICT,
    basename     TEXT    NOT NULL UNIQUE,
    title        TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL CHECK (status IN ('capturing', 'converting', 'finalized', 'interrupted', 'failed')),
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    duration_sec REAL    NOT NULL DEFAULT 0,
    size_bytes   INTEGER NOT NULL DEFAULT 0,
    protected    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- Keyset pagination walks (started_at DESC, id DESC); id is spelled out so
-- the index order matches the ORDER BY exactly.
CREATE INDEX vods_channel_started ON vods (channel_id, started_at DESC, id DESC);
CREATE INDEX vods_started ON vods (started_at DESC, id DESC);

CREATE TABLE vod_chapters (
    vod_id     INTEGER NOT NULL REFERENCES vods (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    title      TEXT    NOT NULL DEFAULT '',
    category   TEXT    NOT NULL DEFAULT '',
    started_at INTEGER NOT NULL,
    offset_sec REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (vod_id, idx)
) WITHOUT ROWID;

CREATE TABLE vod_files (
    vod_id     INTEGER NOT NULL REFERENCES vods (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL, -- relative to the VOD's folder
    kind       TEXT    NOT NULL CHECK (kind IN ('capture_part', 'mp4', 'chapters_vtt', 'chapters_csv', 'info_json', 'log')),
    size_bytes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vod_id, name)
) WITHOUT ROWID;
