package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/notify"
)

// Settings is the typed configuration. Every field is declared by one line of
// the options table; read it with Config.Settings.
type Settings struct {
	Server  ServerSettings
	Log     LogSettings
	Events  EventsSettings
	Webhook WebhookSettings
	WS      WSSettings
	Notify  NotifySettings
	Twitch  TwitchSettings
	Record  RecordSettings
	Tools   ToolSettings
}

// RecordSettings configures recording.
type RecordSettings struct {
	KeepTS           bool          // keep the .ts capture parts after a verified remux
	MinFreeGB        float64       // free space (GB) below which captures stop and none start
	MetadataInterval time.Duration // how often a live capture is probed for title/category changes
	RetentionGB      float64       // all channels together; 0 = no limit
	RetentionEvery   time.Duration // how often retention runs
}

// ToolSettings locates the media tools; empty means search PATH.
type ToolSettings struct {
	FFmpeg     string
	FFprobe    string
	Streamlink string
}

// ServerSettings configures the HTTP server.
type ServerSettings struct {
	Listen    string // address to listen on, host:port
	Token     string // bearer token the API requires; empty leaves the API open
	PublicURL string // public base URL, needed for EventSub over webhooks; empty when none
}

// LogSettings configures logging.
type LogSettings struct {
	Level  string // debug, info, warn or error
	Format string // text or json
}

// EventsSettings configures the event log and log events.
type EventsSettings struct {
	LogLevel  string        // minimum level of records published as log events
	LogRate   float64       // log events per second, sustained
	LogBurst  int           // log events allowed in a burst
	Retention time.Duration // how long events are kept; 0 keeps them forever
}

// WebhookSettings configures webhook delivery.
type WebhookSettings struct {
	Schedule      []time.Duration // delay before each attempt; its length is the number of attempts
	Jitter        float64         // random fraction (0..1) added to or removed from each delay
	Timeout       time.Duration   // how long one attempt may take
	DisableAfter  time.Duration   // an endpoint failing this long is disabled; 0 never disables
	Workers       int             // concurrent deliveries in total
	PerEndpoint   int             // concurrent deliveries to one endpoint
	ResponseLimit int             // bytes of each response body kept in the attempt log
}

// WSSettings configures the websocket.
type WSSettings struct {
	PingInterval time.Duration // how often clients are pinged
	SendBuffer   int           // events queued per client before it is dropped as too slow
}

// NotifySettings configures notification services.
type NotifySettings struct {
	URLs       []string // shoutrrr service URLs
	Categories []string // notify categories sent; empty sends all
	Alerts     bool     // whether alert events are sent too
}

// TwitchSettings holds the Twitch application's credentials.
type TwitchSettings struct {
	ClientID       string
	ClientSecret   string
	EventSubSecret string
}

var (
	levels     = []string{"debug", "info", "warn", "error"}
	categoryRe = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// table is every option lsdvr knows, in documentation order. Adding a key is
// one line here plus its field in Settings.
func table() []Option {
	return []Option{
		opt("server.listen", "127.0.0.1:8080", func(s *Settings) *string { return &s.Server.Listen }, "Address the HTTP server listens on, host:port.", restart, check(hostPort)),
		opt("server.token", "", func(s *Settings) *string { return &s.Server.Token }, "Bearer token the API requires (clients send Authorization: Bearer TOKEN). Empty leaves the API open.", secret),
		opt("server.public_url", "", func(s *Settings) *string { return &s.Server.PublicURL }, "Public base URL of this server, e.g. https://dvr.example.com; needed for Twitch EventSub over webhooks. Empty when none.", restart, check(publicURL)),
		opt("log.level", "info", func(s *Settings) *string { return &s.Log.Level }, "Minimum level of log records: debug, info, warn or error.", check(oneOf(levels...))),
		opt("log.format", "text", func(s *Settings) *string { return &s.Log.Format }, "Log output format: text or json.", restart, check(oneOf("text", "json"))),
		opt("events.log_level", "warn", func(s *Settings) *string { return &s.Events.LogLevel }, "Minimum level of log records published as log events: debug, info, warn or error.", check(oneOf(levels...))),
		opt("events.log_rate", 10.0, func(s *Settings) *float64 { return &s.Events.LogRate }, "Log events published per second, sustained; records beyond it are counted and reported as suppressed.", check(between(0.001, 10000.0))),
		opt("events.log_burst", 50, func(s *Settings) *int { return &s.Events.LogBurst }, "Log events that may be published in a burst above events.log_rate.", check(between(1, 100000))),
		opt("events.retention", 720*time.Hour, func(s *Settings) *time.Duration { return &s.Events.Retention }, "How long the event log keeps events. 0 keeps them forever.", check(atLeast(time.Duration(0)))),
		opt("webhook.schedule", []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}, func(s *Settings) *[]time.Duration { return &s.Webhook.Schedule }, "Delay before each delivery attempt, counted from the previous one; its length is the number of attempts.", check(schedule)),
		opt("webhook.jitter", 0.2, func(s *Settings) *float64 { return &s.Webhook.Jitter }, "Random fraction, 0 to 1, by which each retry delay is lengthened or shortened.", check(between(0.0, 1.0))),
		opt("webhook.timeout", 15*time.Second, func(s *Settings) *time.Duration { return &s.Webhook.Timeout }, "How long one delivery attempt may take.", check(between(time.Millisecond, 10*time.Minute))),
		opt("webhook.disable_after", 120*time.Hour, func(s *Settings) *time.Duration { return &s.Webhook.DisableAfter }, "An endpoint whose deliveries have failed for this long is disabled, with an alert. 0 never disables.", check(atLeast(time.Duration(0)))),
		opt("webhook.workers", 32, func(s *Settings) *int { return &s.Webhook.Workers }, "Deliveries in flight at once, over all endpoints.", restart, check(between(1, 1024))),
		opt("webhook.per_endpoint", 8, func(s *Settings) *int { return &s.Webhook.PerEndpoint }, "Deliveries in flight at once to one endpoint; at most webhook.workers.", restart, check(between(1, 1024))),
		opt("webhook.response_limit", 4096, func(s *Settings) *int { return &s.Webhook.ResponseLimit }, "Bytes of each response body kept in the delivery log.", check(between(0, 1<<20))),
		opt("ws.ping_interval", 30*time.Second, func(s *Settings) *time.Duration { return &s.WS.PingInterval }, "How often websocket clients are pinged.", restart, check(between(time.Second, time.Hour))),
		opt("ws.send_buffer", 256, func(s *Settings) *int { return &s.WS.SendBuffer }, "Events queued for one websocket client; a client that falls this far behind is dropped.", restart, check(between(1, 65536))),
		opt("notify.urls", []string{}, func(s *Settings) *[]string { return &s.Notify.URLs }, "Notification services as shoutrrr URLs (discord://, telegram://, pushover://, ntfy://, generic://, ...).", secret, restart, checkEach(notifyURL)),
		opt("notify.categories", []string{}, func(s *Settings) *[]string { return &s.Notify.Categories }, "Notify categories sent to the services (live, offline, capture_failed, test, ...). Empty sends all.", restart, checkEach(category)),
		opt("notify.alerts", true, func(s *Settings) *bool { return &s.Notify.Alerts }, "Whether alert events are sent to the services too.", restart),
		opt("record.keep_ts", false, func(s *Settings) *bool { return &s.Record.KeepTS }, "Keep the .ts capture parts after the MP4 is verified.", restart),
		opt("record.min_free_gb", 1.0, func(s *Settings) *float64 { return &s.Record.MinFreeGB }, "Free disk space in GB (10^9 bytes) below which a capture is stopped cleanly, none is started, and a critical alert is sent.", restart, check(between(0.0, 100000.0))),
		opt("record.metadata_interval", 30*time.Second, func(s *Settings) *time.Duration { return &s.Record.MetadataInterval }, "How often a channel being recorded is checked for title and category changes (each starts a chapter) and free space.", restart, check(between(time.Second, time.Hour))),
		opt("record.retention_gb", 0.0, func(s *Settings) *float64 { return &s.Record.RetentionGB }, "Largest size in GB of all recordings together; the oldest unprotected ones are deleted beyond it. 0: no limit. Per-channel limits are channel settings.", restart, check(between(0.0, 1e9))),
		opt("record.retention_interval", time.Hour, func(s *Settings) *time.Duration { return &s.Record.RetentionEvery }, "How often retention runs.", restart, check(between(time.Minute, 7*24*time.Hour))),
		opt("tools.ffmpeg", "", func(s *Settings) *string { return &s.Tools.FFmpeg }, "Path of ffmpeg; empty searches PATH.", restart),
		opt("tools.ffprobe", "", func(s *Settings) *string { return &s.Tools.FFprobe }, "Path of ffprobe; empty searches PATH.", restart),
		opt("tools.streamlink", "", func(s *Settings) *string { return &s.Tools.Streamlink }, "Path of streamlink; empty searches PATH.", restart),
		opt("twitch.client_id", "", func(s *Settings) *string { return &s.Twitch.ClientID }, "Client ID of the Twitch application.", restart, check(noSpace)),
		opt("twitch.client_secret", "", func(s *Settings) *string { return &s.Twitch.ClientSecret }, "Client secret of the Twitch application.", secret, restart, check(noSpace)),
		opt("twitch.eventsub_secret", "", func(s *Settings) *string { return &s.Twitch.EventSubSecret }, "Secret Twitch signs EventSub webhook notifications with (10 to 100 characters).", secret, restart, check(eventSubSecret)),
	}
}

// crossCheck validates rules that span options; each problem names the key
// it is reported against.
func crossCheck(s *Settings) map[string]string {
	out := map[string]string{}
	if s.Webhook.PerEndpoint > s.Webhook.Workers {
		out["webhook.per_endpoint"] = fmt.Sprintf("must be at most webhook.workers (%d)", s.Webhook.Workers)
	}
	return out
}

func oneOf(allowed ...string) func(string) string {
	return func(v string) string {
		if slices.Contains(allowed, v) {
			return ""
		}
		return "must be one of " + strings.Join(allowed, ", ")
	}
}

func between[T int | float64 | time.Duration](lo, hi T) func(T) string {
	return func(v T) string {
		if v < lo || v > hi {
			return fmt.Sprintf("must be between %s and %s", show(lo), show(hi))
		}
		return ""
	}
}

func atLeast[T int | float64 | time.Duration](lo T) func(T) string {
	return func(v T) string {
		if v < lo {
			return "must be " + show(lo) + " or more"
		}
		return ""
	}
}

func show(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return FormatDuration(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func hostPort(v string) string {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "must be host:port, e.g. 127.0.0.1:8080"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "port must be a number from 0 to 65535"
	}
	_ = host // empty host means every interface, which is allowed
	return ""
}

func publicURL(v string) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL, e.g. https://dvr.example.com"
	}
	return ""
}

func schedule(v []time.Duration) string {
	if len(v) == 0 {
		return "must list at least one delay"
	}
	for i, d := range v {
		if d < 0 {
			return fmt.Sprintf("[%d] must not be negative", i)
		}
	}
	return ""
}

func notifyURL(v string) string {
	if err := notify.CheckURL(v); err != nil {
		return err.Error()
	}
	return ""
}

func category(v string) string {
	if !categoryRe.MatchString(v) {
		return fmt.Sprintf("%q must be lowercase letters, digits and underscores", v)
	}
	return ""
}

func noSpace(v string) string {
	if strings.ContainsAny(v, " \t\r\n") {
		return "must not contain spaces"
	}
	return ""
}

func eventSubSecret(v string) string {
	if v != "" && (len(v) < 10 || len(v) > 100) {
		return "must be 10 to 100 characters long"
	}
	return noSpace(v)
}
