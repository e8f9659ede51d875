package event

import (
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// Action names an event type. The names are those of the original
// LiveStreamDVR catalogue so that existing receivers keep working.
type Action string

// The catalogue, in the order the documentation lists it.
const (
	ActionInit           Action = "init"
	ActionConnected      Action = "connected"
	ActionStartDownload  Action = "start_download"
	ActionStartCapture   Action = "start_capture"
	ActionEndCapture     Action = "end_capture"
	ActionChapterUpdate  Action = "chapter_update"
	ActionStartConvert   Action = "start_convert"
	ActionEndConvert     Action = "end_convert"
	ActionEndDownload    Action = "end_download"
	ActionVODUpdated     Action = "vod_updated"
	ActionVODRemoved     Action = "vod_removed"
	ActionChannelUpdated Action = "channel_updated"
	ActionChatDownload   Action = "chat_download"
	ActionVODDownload    Action = "vod_download"
	ActionVideoDownload  Action = "video_download"
	ActionJobSave        Action = "job_save"
	ActionJobUpdate      Action = "job_update"
	ActionJobProgress    Action = "job_progress"
	ActionJobClear       Action = "job_clear"
	ActionConfigSave     Action = "config_save"
	ActionNotify         Action = "notify"
	ActionAlert          Action = "alert"
	ActionLog            Action = "log"
)

// Data is the payload of one action. Every type in this file implements it.
type Data interface {
	Action() Action
}

// entry documents one action for the catalogue, the schema and the docs.
type entry struct {
	action Action
	when   string
	zero   Data
}

// notSentYet names the actions this version does not send yet, with what
// will send them, so the documentation never promises an event that
// nothing emits.
var notSentYet = map[Action]string{
	ActionChatDownload:  "chat capture",
	ActionVODDownload:   "platform VOD downloads",
	ActionVideoDownload: "ad-hoc downloads",
}

// catalogue lists every action with a zero value of its payload type.
var catalogue = []entry{
	{ActionInit, "The server has started; sent once per start.", Init{}},
	{ActionConnected, "A websocket client was accepted; sent to that client only, before anything else.", Connected{}},
	{ActionStartDownload, "A recording pipeline starts for a broadcast, before the capture starts.", StartDownload{}},
	{ActionStartCapture, "The capture process starts.", StartCapture{}},
	{ActionEndCapture, "The capture process ends, successfully or not.", EndCapture{}},
	{ActionChapterUpdate, "The title or category changed during a capture (also sent for the first chapter).", ChapterUpdate{}},
	{ActionStartConvert, "The remux to MP4 starts (once per VOD).", StartConvert{}},
	{ActionEndConvert, "The remux to MP4 ends (once per VOD).", EndConvert{}},
	{ActionEndDownload, "The whole pipeline is done and the VOD's files are final.", EndDownload{}},
	{ActionVODUpdated, "A VOD's record changed.", VODUpdated{}},
	{ActionVODRemoved, "A VOD was deleted, by hand or by retention.", VODRemoved{}},
	{ActionChannelUpdated, "A channel's settings or live state changed.", ChannelUpdated{}},
	{ActionChatDownload, "A chat capture or chat download finished.", ChatDownload{}},
	{ActionVODDownload, "A platform VOD was downloaded for a channel.", VODDownload{}},
	{ActionVideoDownload, "An ad-hoc download (POST /api/v1/tools/download) finished.", VideoDownload{}},
	{ActionJobSave, "A job was created.", JobSave{}},
	{ActionJobUpdate, "A job changed state.", JobUpdate{}},
	{ActionJobProgress, "A job reported progress; coalesced to at most one per second per job.", JobProgress{}},
	{ActionJobClear, "A job was removed from the list of jobs.", JobClear{}},
	{ActionConfigSave, "The configuration was saved.", ConfigSave{}},
	{ActionNotify, "Something a person should see: a stream went live, a capture failed.", Notify{}},
	{ActionAlert, "Something an operator must act on: disk full, endpoint disabled, subscription revoked.", Alert{}},
	{ActionLog, "A log record at or above the configured level (rate-limited).", Log{}},
}

// Actions returns every action of the catalogue, in documentation order.
func Actions() []Action {
	out := make([]Action, len(catalogue))
	for i, e := range catalogue {
		out[i] = e.action
	}
	return out
}

// Valid reports whether a is an action of the catalogue.
func (a Action) Valid() bool {
	for _, e := range catalogue {
		if e.action == a {
			return true
		}
	}
	return false
}

// Init is sent once when the server has started.
type Init struct {
	Version   string    `json:"version" jsonschema_description:"lsdvr version."`
	StartedAt time.Time `json:"started_at" jsonschema_description:"When the server started."`
	Instance  string    `json:"instance" jsonschema_description:"Identifier of this server process; changes on every start."`
}

// Connected is the first message a websocket client receives.
type Connected struct {
	ClientID string `json:"client_id" jsonschema_description:"Identifier the server gave this websocket client."`
	Version  string `json:"version" jsonschema_description:"lsdvr version."`
	LastSeq  int64  `json:"last_seq" jsonschema_description:"Seq of the newest event in the log when the client connected."`
}

// VODData is the payload of actions that carry only a VOD.
type VODData struct {
	VOD dvr.VOD `json:"vod" jsonschema_description:"The VOD concerned."`
}

// StartDownload: a recording pipeline starts.
type StartDownload VODData

// StartCapture: the capture process starts.
type StartCapture VODData

// StartConvert: the remux starts.
type StartConvert VODData

// EndDownload: the whole pipeline is done.
type EndDownload VODData

// VODUpdated: a VOD's record changed.
type VODUpdated VODData

// Outcome is the payload of actions that end a step.
type Outcome struct {
	VOD     dvr.VOD `json:"vod" jsonschema_description:"The VOD concerned."`
	Success bool    `json:"success" jsonschema_description:"Whether the step succeeded."`
	Reason  string  `json:"reason,omitempty" jsonschema_description:"Why the step ended; always set when success is false."`
}

// EndCapture: the capture process ended.
type EndCapture Outcome

// EndConvert: the remux ended.
type EndConvert Outcome

// ChapterUpdate: a new chapter started during a capture.
type ChapterUpdate struct {
	Chapter dvr.Chapter `json:"chapter" jsonschema_description:"The chapter that just started."`
	VOD     dvr.VOD     `json:"vod" jsonschema_description:"The VOD being captured."`
}

// VODRemoved: a VOD and its files were deleted.
type VODRemoved struct {
	Basename string `json:"basename" jsonschema_description:"Basename of the deleted VOD."`
	Channel  string `json:"channel" jsonschema_description:"Name of its channel."`
	Reason   string `json:"reason,omitempty" jsonschema_description:"Why it was deleted: manual or retention."`
}

// ChannelUpdated: a channel's settings or live state changed.
type ChannelUpdated struct {
	Channel dvr.Channel `json:"channel" jsonschema_description:"The channel as it is now."`
}

// ChatDownload: a chat capture or download finished.
type ChatDownload struct {
	VOD     dvr.VOD `json:"vod" jsonschema_description:"The VOD the chat belongs to."`
	Success bool    `json:"success" jsonschema_description:"Whether the chat was saved."`
	Path    string  `json:"path,omitempty" jsonschema_description:"Chat file, relative to the storage folder."`
}

// VODDownload: a platform VOD was downloaded for a channel.
type VODDownload struct {
	VOD     *dvr.VOD `json:"vod,omitempty" jsonschema_description:"The VOD record, when one was created."`
	URL     string   `json:"url,omitempty" jsonschema_description:"The platform URL that was downloaded."`
	Success bool     `json:"success" jsonschema_description:"Whether the download succeeded."`
	Path    string   `json:"path,omitempty" jsonschema_description:"Downloaded file, relative to the storage folder."`
}

// VideoDownload: an ad-hoc download finished.
type VideoDownload struct {
	URL     string `json:"url" jsonschema_description:"The URL that was downloaded."`
	Success bool   `json:"success" jsonschema_description:"Whether the download succeeded."`
	Path    string `json:"path,omitempty" jsonschema_description:"Downloaded file, relative to the storage folder."`
	Reason  string `json:"reason,omitempty" jsonschema_description:"Why the download failed."`
}

// Job describes a job in job_* events.
type Job struct {
	ID        string         `json:"id" jsonschema_description:"Unique id of the job."`
	Kind      string         `json:"kind" jsonschema_description:"What the job does, e.g. maintenance.prune_events, capture, convert."`
	State     string         `json:"state" jsonschema_description:"One of: pending, running, completed, failed, cancelled."`
	Attempt   int            `json:"attempt,omitempty" jsonschema_description:"Attempt number, from 1."`
	Error     string         `json:"error,omitempty" jsonschema_description:"Last error, when the job failed or is retrying."`
	Progress  float64        `json:"progress,omitempty" jsonschema_description:"Fraction done, from 0 to 1, when known."`
	Metadata  map[string]any `json:"metadata,omitempty" jsonschema_description:"Job-specific details."`
	CreatedAt time.Time      `json:"created_at" jsonschema_description:"When the job was created."`
	UpdatedAt time.Time      `json:"updated_at" jsonschema_description:"When the job last changed."`
}

// JobSave: a job was created.
type JobSave struct {
	JobName string `json:"job_name" jsonschema_description:"Name of the job."`
	Job     Job    `json:"job" jsonschema_description:"The job."`
}

// JobUpdate: a job changed state.
type JobUpdate JobSave

// JobClear: a job was removed.
type JobClear JobSave

// JobProgress: a job reported progress.
type JobProgress struct {
	JobName  string  `json:"job_name" jsonschema_description:"Name of the job."`
	Progress float64 `json:"progress" jsonschema_description:"Fraction done, from 0 to 1."`
	Text     string  `json:"text,omitempty" jsonschema_description:"Human-readable progress, e.g. 120 MB, 60 segments."`
}

// ConfigSave: the configuration was saved.
type ConfigSave struct {
	Changed []string       `json:"changed" jsonschema_description:"Keys whose values changed, sorted."`
	Config  map[string]any `json:"config" jsonschema_description:"The whole configuration, with secrets redacted."`
}

// Notify is something a person should see.
type Notify struct {
	Title    string `json:"title" jsonschema_description:"Short headline."`
	Body     string `json:"body" jsonschema_description:"The message."`
	Icon     string `json:"icon,omitempty" jsonschema_description:"URL of an icon, e.g. the channel's avatar."`
	URL      string `json:"url,omitempty" jsonschema_description:"Where the person can follow up."`
	TTS      bool   `json:"tts,omitempty" jsonschema_description:"Whether clients should read the message aloud."`
	Category string `json:"category" jsonschema_description:"What kind of notice: live, offline, capture_failed, test, ... Used to filter notification services."`
}

// Alert levels.
const (
	LevelWarning  = "warning"
	LevelError    = "error"
	LevelCritical = "critical"
)

// Alert is something an operator must act on.
type Alert struct {
	Text  string `json:"text" jsonschema_description:"What happened and what to do."`
	Level string `json:"level" jsonschema_description:"One of: warning, error, critical."`
}

// Log is a log record at or above the configured level.
type Log struct {
	Level   string         `json:"level" jsonschema_description:"DEBUG, INFO, WARN or ERROR."`
	Module  string         `json:"module,omitempty" jsonschema_description:"Package or component that logged."`
	Message string         `json:"message" jsonschema_description:"The log message."`
	Time    time.Time      `json:"time" jsonschema_description:"When it was logged."`
	Attrs   map[string]any `json:"attrs,omitempty" jsonschema_description:"Structured attributes of the record."`
}

// Action implements Data: each payload type names its action.
func (Init) Action() Action           { return ActionInit }
func (Connected) Action() Action      { return ActionConnected }
func (StartDownload) Action() Action  { return ActionStartDownload }
func (StartCapture) Action() Action   { return ActionStartCapture }
func (EndCapture) Action() Action     { return ActionEndCapture }
func (ChapterUpdate) Action() Action  { return ActionChapterUpdate }
func (StartConvert) Action() Action   { return ActionStartConvert }
func (EndConvert) Action() Action     { return ActionEndConvert }
func (EndDownload) Action() Action    { return ActionEndDownload }
func (VODUpdated) Action() Action     { return ActionVODUpdated }
func (VODRemoved) Action() Action     { return ActionVODRemoved }
func (ChannelUpdated) Action() Action { return ActionChannelUpdated }
func (ChatDownload) Action() Action   { return ActionChatDownload }
func (VODDownload) Action() Action    { return ActionVODDownload }
func (VideoDownload) Action() Action  { return ActionVideoDownload }
func (JobSave) Action() Action        { return ActionJobSave }
func (JobUpdate) Action() Action      { return ActionJobUpdate }
func (JobProgress) Action() Action    { return ActionJobProgress }
func (JobClear) Action() Action       { return ActionJobClear }
func (ConfigSave) Action() Action     { return ActionConfigSave }
func (Notify) Action() Action         { return ActionNotify }
func (Alert) Action() Action          { return ActionAlert }
func (Log) Action() Action            { return ActionLog }
