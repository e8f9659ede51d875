package dvr

import "time"

// Channel is a watched source: a Twitch login or any URL that streamlink or
// ffmpeg can open.
type Channel struct {
	ID              int64     `json:"id" jsonschema_description:"Database id of the channel."`
	Name            string    `json:"name" jsonschema_description:"Short, filesystem-safe name; also the storage folder."`
	Provider        string    `json:"provider" jsonschema_description:"Where the channel lives: twitch or stream (any URL)."`
	URL             string    `json:"url" jsonschema_description:"Address the channel is watched at."`
	Quality         string    `json:"quality,omitempty" jsonschema_description:"Preferred quality, e.g. best or 720p,best."`
	Backend         string    `json:"backend" jsonschema_description:"Capture tool: auto, streamlink or ffmpeg."`
	PollIntervalSec int       `json:"poll_interval_sec" jsonschema_description:"Seconds between live checks; at least 15."`
	Enabled         bool      `json:"enabled" jsonschema_description:"Whether the channel is watched and recorded."`
	KeepLast        int       `json:"keep_last" jsonschema_description:"Retention: keep at most this many finished VODs; 0 means no limit."`
	KeepGB          float64   `json:"keep_gb" jsonschema_description:"Retention: keep at most this many gigabytes (10^9 bytes) of VODs; 0 means no limit."`
	IsLive          bool      `json:"is_live" jsonschema_description:"Whether the channel is live now."`
	Title           string    `json:"title,omitempty" jsonschema_description:"Current or last known stream title."`
	Category        string    `json:"category,omitempty" jsonschema_description:"Current or last known category (game)."`
	CreatedAt       time.Time `json:"created_at" jsonschema_description:"When the channel was added."`
	UpdatedAt       time.Time `json:"updated_at" jsonschema_description:"When the channel record last changed."`
	// DeletedAt is set only in the channel_updated event sent when the
	// channel is removed, so receivers can tell a removal from a change.
	DeletedAt *time.Time `json:"deleted_at,omitempty" jsonschema_description:"Set only when the channel was just removed."`
}

// VOD is one recorded broadcast (BaseVOD in the original catalogue).
type VOD struct {
	ID          int64      `json:"id" jsonschema_description:"Database id of the VOD."`
	Basename    string     `json:"basename" jsonschema_description:"Stable name of the VOD; also its storage folder under the channel."`
	ChannelID   int64      `json:"channel_id" jsonschema_description:"Id of the channel it was recorded from."`
	ChannelName string     `json:"channel_name" jsonschema_description:"Name of the channel it was recorded from."`
	Title       string     `json:"title,omitempty" jsonschema_description:"Title at the start of the broadcast."`
	Status      string     `json:"status" jsonschema_description:"One of: capturing, converting, finalized, interrupted, failed."`
	StartedAt   time.Time  `json:"started_at" jsonschema_description:"When the capture started."`
	EndedAt     *time.Time `json:"ended_at,omitempty" jsonschema_description:"When the capture ended; absent while capturing."`
	DurationSec float64    `json:"duration_sec,omitempty" jsonschema_description:"Duration of the recording in seconds, once known."`
	SizeBytes   int64      `json:"size_bytes,omitempty" jsonschema_description:"Total size of the VOD's files in bytes."`
	Protected   bool       `json:"protected,omitempty" jsonschema_description:"Protected VODs are never deleted by retention."`
	Chapters    []Chapter  `json:"chapters,omitempty" jsonschema_description:"Chapters in order of start."`
	Files       []string   `json:"files,omitempty" jsonschema_description:"Files of the VOD, relative to its storage folder."`
}

// Chapter is a span of a VOD with one title and category.
type Chapter struct {
	Index     int       `json:"index" jsonschema_description:"Position of the chapter, from 0."`
	Title     string    `json:"title" jsonschema_description:"Stream title during the chapter."`
	Category  string    `json:"category,omitempty" jsonschema_description:"Category (game) during the chapter."`
	StartedAt time.Time `json:"started_at" jsonschema_description:"Wall-clock start of the chapter."`
	OffsetSec float64   `json:"offset_sec" jsonschema_description:"Start of the chapter in seconds from the start of the VOD."`
}
