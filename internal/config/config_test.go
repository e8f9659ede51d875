package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

type testBundle struct {
	dir string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{dir: t.TempDir()}
}

func (tb *testBundle) write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(tb.dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var verr *ValidationError
	require.True(t, errors.As(err, &verr), "want *ValidationError, got %v", err)
	return verr.Messages()
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"twitch.client_id":       "LSDVR_TWITCH_CLIENT_ID",
		"twitch.eventsub_secret": "LSDVR_TWITCH_EVENTSUB_SECRET",
		"webhook.timeout":        "LSDVR_WEBHOOK_TIMEOUT",
		"ws.ping_interval":       "LSDVR_WS_PING_INTERVAL",
	} {
		require.Equal(t, want, EnvName(key), key)
	}
	for _, o := range Options() {
		require.Equal(t, EnvName(o.Key), o.Env, "option %s", o.Key)
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c, err := Load(tb.dir, "", nil)
	require.NoError(t, err)
	s := c.Settings()
	require.Equal(t, "127.0.0.1:8080", s.Server.Listen)
	require.Equal(t, "", s.Server.Token)
	require.Equal(t, "info", s.Log.Level)
	require.Equal(t, "text", s.Log.Format)
	require.Equal(t, "warn", s.Events.LogLevel)
	require.Equal(t, 10.0, s.Events.LogRate)
	require.Equal(t, 50, s.Events.LogBurst)
	require.Equal(t, 720*time.Hour, s.Events.Retention)
	require.Equal(t, []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}, s.Webhook.Schedule)
	require.Equal(t, 0.2, s.Webhook.Jitter)
	require.Equal(t, 15*time.Second, s.Webhook.Timeout)
	require.Equal(t, 120*time.Hour, s.Webhook.DisableAfter)
	require.Equal(t, 32, s.Webhook.Workers)
	require.Equal(t, 8, s.Webhook.PerEndpoint)
	require.Equal(t, 4096, s.Webhook.ResponseLimit)
	require.Equal(t, 30*time.Second, s.WS.PingInterval)
	require.Equal(t, 256, s.WS.SendBuffer)
	require.Empty(t, s.Notify.URLs)
	require.Empty(t, s.Notify.Categories)
	require.True(t, s.Notify.Alerts)
	for key, src := range c.Sources() {
		require.Equal(t, SourceDefault, src, key)
	}
	require.Equal(t, filepath.Join(tb.dir, YAMLFile), c.Path())

	v := c.Values()
	require.Equal(t, "720h", v["events.retention"])
	require.Equal(t, []string{"0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"}, v["webhook.schedule"])
	require.Equal(t, []string{}, v["notify.urls"])
}

func TestParseEachTypeFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   string
		check func(t *testing.T, s Settings)
		err   string
	}{
		{"string", "LSDVR_TWITCH_CLIENT_ID=abc123", func(t *testing.T, s Settings) { require.Equal(t, "abc123", s.Twitch.ClientID) }, ""},
		{"int", "LSDVR_WEBHOOK_WORKERS=12", func(t *testing.T, s Settings) { require.Equal(t, 12, s.Webhook.Workers) }, ""},
		{"int bad", "LSDVR_WEBHOOK_WORKERS=four", nil, `webhook.workers (env LSDVR_WEBHOOK_WORKERS): must be an integer, got "four"`},
		{"float", "LSDVR_WEBHOOK_JITTER=0.5", func(t *testing.T, s Settings) { require.Equal(t, 0.5, s.Webhook.Jitter) }, ""},
		{"float bad", "LSDVR_WEBHOOK_JITTER=lots", nil, `webhook.jitter (env LSDVR_WEBHOOK_JITTER): must be a number, got "lots"`},
		{"bool", "LSDVR_NOTIFY_ALERTS=no", func(t *testing.T, s Settings) { require.False(t, s.Notify.Alerts) }, ""},
		{"bool bad", "LSDVR_NOTIFY_ALERTS=maybe", nil, `notify.alerts (env LSDVR_NOTIFY_ALERTS): must be true or false, got "maybe"`},
		{"duration", "LSDVR_WEBHOOK_TIMEOUT=1m30s", func(t *testing.T, s Settings) { require.Equal(t, 90*time.Second, s.Webhook.Timeout) }, ""},
		{"duration zero", "LSDVR_EVENTS_RETENTION=0", func(t *testing.T, s Settings) { require.Zero(t, s.Events.Retention) }, ""},
		{"duration bad", "LSDVR_WEBHOOK_TIMEOUT=15", nil, `webhook.timeout (env LSDVR_WEBHOOK_TIMEOUT): must be a duration such as "15s", "5m" or "2h", got "15"`},
		{"list", "LSDVR_NOTIFY_CATEGORIES=live, capture_failed,,", func(t *testing.T, s Settings) {
			require.Equal(t, []string{"live", "capture_failed"}, s.Notify.Categories)
		}, ""},
		{"list json", `LSDVR_NOTIFY_CATEGORIES=["live","test"]`, func(t *testing.T, s Settings) {
			require.Equal(t, []string{"live", "test"}, s.Notify.Categories)
		}, ""},
		{"list empty", "LSDVR_NOTIFY_CATEGORIES=", func(t *testing.T, s Settings) { require.Empty(t, s.Notify.Categories) }, ""},
		{"durations", "LSDVR_WEBHOOK_SCHEDULE=0s,1s,1m", func(t *testing.T, s Settings) {
			require.Equal(t, []time.Duration{0, time.Second, time.Minute}, s.Webhook.Schedule)
		}, ""},
		{"durations bad", "LSDVR_WEBHOOK_SCHEDULE=0s,soon", nil, `webhook.schedule (env LSDVR_WEBHOOK_SCHEDULE): [1] must be a duration such as "15s", "5m" or "2h", got "0s,soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t)
			c, err := Load(tb.dir, "", []string{tt.env})
			if tt.err != "" {
				require.Equal(t, []string{tt.err}, problemsOf(t, err))
				return
			}
			require.NoError(t, err)
			tt.check(t, c.Settings())
		})
	}
}

func TestParseEachTypeFromFile(t *testing.T) {
	t.Parallel()
	yamlText := `
server:
  listen: 0.0.0.0:9000
  token: s3cret
events:
  log_rate: 2
  retention: 0
webhook:
  jitter: 0
  timeout: 30s
  workers: 16
  schedule: [0s, 10s, 1h]
notify:
  categories: [live]
  alerts: false
twitch.client_id: app
`
	tomlText := `
twitch.client_id = "app"

[server]
listen = "0.0.0.0:9000"
token = "s3cret"

[events]
log_rate = 2
retention = "0s"

[webhook]
jitter = 0
timeout = "30s"
workers = 16
schedule = ["0s", "10s", "1h"]

[notify]
categories = ["live"]
alerts = false
`
	for name, file := range map[string]struct{ name, text string }{
		"yaml": {YAMLFile, yamlText},
		"toml": {TOMLFile, tomlText},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t)
			tb.write(t, file.name, file.text)
			c, err := Load(tb.dir, "", nil)
			require.NoError(t, err)
			s := c.Settings()
			require.Equal(t, "0.0.0.0:9000", s.Server.Listen)
			require.Equal(t, "s3cret", s.Server.Token)
			require.Equal(t, 2.0, s.Events.LogRate)
			require.Zero(t, s.Events.Retention)
			require.Zero(t, s.Webhook.Jitter)
			require.Equal(t, 30*time.Second, s.Webhook.Timeout)
			require.Equal(t, 16, s.Webhook.Workers)
			require.Equal(t, []time.Duration{0, 10 * time.Second, time.Hour}, s.Webhook.Schedule)
			require.Equal(t, []string{"live"}, s.Notify.Categories)
			require.False(t, s.Notify.Alerts)
			require.Equal(t, "app", s.Twitch.ClientID)
			require.Equal(t, SourceFile, c.Sources()["webhook.timeout"])
			require.Equal(t, SourceDefault, c.Sources()["webhook.per_endpoint"])
		})
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.write(t, YAMLFile, "webhook:\n  timeout: 20s\n  workers: 10\n")
	c, err := Load(tb.dir, "", []string{
		"LSDVR_WEBHOOK_TIMEOUT=25s",
		"PATH=/bin",
	})
	require.NoError(t, err)
	s := c.Settings()
	require.Equal(t, 25*time.Second, s.Webhook.Timeout, "env wins over file")
	require.Equal(t, 10, s.Webhook.Workers, "file wins over default")
	require.Equal(t, 8, s.Webhook.PerEndpoint, "default when nothing sets it")
	src := c.Sources()
	require.Equal(t, SourceEnv, src["webhook.timeout"])
	require.Equal(t, SourceFile, src["webhook.workers"])
	require.Equal(t, SourceDefault, src["webhook.per_endpoint"])
}

func TestExplicitFile(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	other := t.TempDir()
	path := filepath.Join(other, "lsdvr.toml")
	require.NoError(t, os.WriteFile(path, []byte("[log]\nlevel = \"debug\"\n"), 0o600))
	// A file in the data directory is ignored when one is named.
	tb.write(t, YAMLFile, "log:\n  level: error\n")
	c, err := Load(tb.dir, path, nil)
	require.NoError(t, err)
	require.Equal(t, "debug", c.Settings().Log.Level)
	require.Equal(t, path, c.Path())

	_, err = Load(tb.dir, filepath.Join(other, "missing.yaml"), nil)
	require.ErrorContains(t, err, "missing.yaml")
	_, err = Load(tb.dir, filepath.Join(other, "lsdvr.ini"), nil)
	require.ErrorContains(t, err, "must end in .yaml, .yml or .toml")
}

func TestBothFilesIsAnError(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.write(t, YAMLFile, "")
	tb.write(t, TOMLFile, "")
	_, err := Load(tb.dir, "", nil)
	require.ErrorContains(t, err, "config.yaml")
	require.ErrorContains(t, err, "config.toml")
	require.ErrorContains(t, err, "keep only one")
}

func TestMalformedFile(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	path := tb.write(t, TOMLFile, "[webhook\ntimeout = 1")
	_, err := Load(tb.dir, "", nil)
	require.ErrorContains(t, err, path)
}

func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	path := tb.write(t, YAMLFile, "webhook:\n  timout: 20s\nwebsocket:\n  ping: 1s\n")
	_, err := Load(tb.dir, "", []string{
		"LSDVR_WEBHOOK_WORKRES=3",
		"LSDVR_SERVER=http://127.0.0.1:9",    // the CLI's
		"LSDVR_TOKEN=abc",                    // the CLI's
		"LSDVR_DATA=/var/lib/lsdvr",          // not a section of options
		"LSDVR_TWITCH_CLIENTID=x",            // a typo in a known section
		"LSDVR_SERVER_LISTEN=127.0.0.1:9999", // fine
	})
	require.Equal(t, []string{
		`LSDVR_TWITCH_CLIENTID (env): unknown variable: no config key "twitch.clientid"`,
		`LSDVR_WEBHOOK_WORKRES (env): unknown variable: no config key "webhook.workres"`,
		`webhook.timout (file ` + path + `): unknown key`,
		`websocket.ping (file ` + path + `): unknown key`,
	}, problemsOf(t, err))
}

func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	path := tb.write(t, YAMLFile, `
server:
  listen: nowhere
  public_url: ftp://example.com
log:
  level: loud
webhook:
  jitter: 1.5
  timeout: 0s
  workers: 4
  per_endpoint: 8
  schedule: []
notify:
  categories: [Live, ok]
`)
	_, err := Load(tb.dir, "", []string{
		"LSDVR_WS_SEND_BUFFER=0",
		"LSDVR_TWITCH_EVENTSUB_SECRET=short",
		"LSDVR_NOTIFY_URLS=ntfy://ntfy.sh/topic,nope://token@host,justtext",
	})
	file := "(file " + path + ")"
	require.Equal(t, []string{
		`log.level ` + file + `: must be one of debug, info, warn, error, got "loud"`,
		`notify.categories[0] ` + file + `: "Live" must be lowercase letters, digits and underscores`,
		`notify.urls[1] (env LSDVR_NOTIFY_URLS): names unknown service "nope"`,
		`notify.urls[2] (env LSDVR_NOTIFY_URLS): is not a service URL such as ntfy://ntfy.sh/topic`,
		`server.listen ` + file + `: must be host:port, e.g. 127.0.0.1:8080, got "nowhere"`,
		`server.public_url ` + file + `: must be an absolute http or https URL, e.g. https://dvr.example.com, got "ftp://example.com"`,
		`twitch.eventsub_secret (env LSDVR_TWITCH_EVENTSUB_SECRET): must be 10 to 100 characters long, got ********`,
		`webhook.jitter ` + file + `: must be between 0 and 1, got 1.5`,
		`webhook.per_endpoint ` + file + `: must be at most webhook.workers (4), got 8`,
		`webhook.schedule ` + file + `: must list at least one delay, got []`,
		`webhook.timeout ` + file + `: must be between 1ms and 10m, got "0s"`,
		`ws.send_buffer (env LSDVR_WS_SEND_BUFFER): must be between 1 and 65536, got 0`,
	}, problemsOf(t, err))
	require.NotContains(t, err.Error(), "token@host")
	require.NotContains(t, err.Error(), "short")
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c, err := Load(tb.dir, "", []string{
		"LSDVR_SERVER_TOKEN=hunter22",
		"LSDVR_NOTIFY_URLS=ntfy://ntfy.sh/private-topic",
		"LSDVR_TWITCH_CLIENT_ID=public-id",
	})
	require.NoError(t, err)
	r := c.Redacted()
	require.Equal(t, RedactedValue, r["server.token"])
	require.Equal(t, RedactedValue, r["notify.urls"])
	require.Equal(t, "", r["twitch.client_secret"], "unset secret")
	require.Equal(t, "", r["twitch.eventsub_secret"], "unset secret")
	require.Equal(t, "public-id", r["twitch.client_id"])
	require.Equal(t, "15s", r["webhook.timeout"])
	require.Len(t, r, len(Options()))

	v := c.Values()
	require.Equal(t, "hunter22", v["server.token"])
	require.Equal(t, []string{"ntfy://ntfy.sh/private-topic"}, v["notify.urls"])

	secrets := map[string]bool{}
	for _, o := range c.Options() {
		secrets[o.Key] = o.Secret
	}
	require.Equal(t, map[string]bool{"server.token": true, "notify.urls": true, "twitch.client_secret": true, "twitch.eventsub_secret": true},
		filterTrue(secrets))
}

func filterTrue(m map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		if v {
			out[k] = true
		}
	}
	return out
}

func TestApplyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, file, initial string }{
		{"yaml", YAMLFile, "# my settings\nlog:\n  level: debug\n"},
		{"toml", TOMLFile, "[log]\nlevel = \"debug\"\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t)
			path := tb.write(t, tt.file, tt.initial)
			c, err := Load(tb.dir, "", []string{"LSDVR_WS_SEND_BUFFER=64"})
			require.NoError(t, err)
			var hooked [][]string
			c.OnChange(func(changed []string) { hooked = append(hooked, changed) })

			res, err := c.Apply(context.Background(), map[string]any{
				"webhook.timeout":   "45s",
				"webhook.schedule":  []any{"0s", "1m"},
				"webhook.jitter":    float64(0), // JSON numbers arrive as float64
				"webhook.workers":   float64(12),
				"notify.categories": []any{"live", "test"},
				"server.token":      "tok-123",
				"log.level":         "debug", // unchanged
			})
			require.NoError(t, err)
			require.Equal(t, []string{"notify.categories", "server.token", "webhook.jitter", "webhook.schedule", "webhook.timeout", "webhook.workers"}, res.Changed)
			require.Equal(t, []string{"notify.categories", "webhook.workers"}, res.RestartRequired)
			require.Equal(t, [][]string{res.Changed}, hooked)

			st, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
			entries, err := os.ReadDir(tb.dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file left behind")

			s := c.Settings()
			require.Equal(t, 45*time.Second, s.Webhook.Timeout)
			require.Equal(t, SourceFile, c.Sources()["webhook.timeout"])

			// The saved file, read again, gives the same values; the
			// environment's value was not written into it.
			again, err := Load(tb.dir, "", nil)
			require.NoError(t, err)
			require.Equal(t, c.Values()["webhook.schedule"], again.Values()["webhook.schedule"])
			want := c.Values()
			want["ws.send_buffer"] = 256
			require.Equal(t, want, again.Values())
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NotContains(t, string(raw), "send_buffer")
			require.Contains(t, string(raw), "45s")
		})
	}
}

func TestApplyRejectsWithoutWriting(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	path := tb.write(t, YAMLFile, "log:\n  level: debug\n")
	c, err := Load(tb.dir, "", []string{"LSDVR_WEBHOOK_TIMEOUT=20s"})
	require.NoError(t, err)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	hooked := 0
	c.OnChange(func([]string) { hooked++ })

	tests := []struct {
		name    string
		changes map[string]any
		code    string
		msg     string
	}{
		{"unknown key", map[string]any{"webhook.timout": "1s", "log.level": "warn"}, "invalid", `unknown config key "webhook.timout"`},
		{"env key", map[string]any{"webhook.timeout": "30s", "log.level": "warn"}, "conflict", "webhook.timeout is set by the environment variable LSDVR_WEBHOOK_TIMEOUT and cannot be changed here"},
		{"wrong type", map[string]any{"webhook.workers": "many", "webhook.jitter": true}, "invalid", `webhook.jitter: must be a number, got true; webhook.workers: must be an integer, got "many"`},
		{"fails validation", map[string]any{"webhook.workers": float64(2), "log.level": "loud"}, "invalid", `log.level (request): must be one of debug, info, warn, error, got "loud"; webhook.per_endpoint (default): must be at most webhook.workers (2), got 8`},
		{"bad notify url", map[string]any{"notify.urls": []any{"discord://token@id", "bogus://secret-token@x"}}, "invalid", `notify.urls[1] (request): names unknown service "bogus"`},
	}
	for _, tt := range tests {
		_, err := c.Apply(context.Background(), tt.changes)
		require.Error(t, err, tt.name)
		require.Equal(t, tt.code, codeOf(err), tt.name)
		require.Equal(t, tt.msg, err.Error(), tt.name)
	}
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(before), string(after))
	require.Equal(t, "debug", c.Settings().Log.Level)
	require.Zero(t, hooked)

	// Sending the environment's own value back is allowed and does nothing.
	res, err := c.Apply(context.Background(), map[string]any{"webhook.timeout": "20s"})
	require.NoError(t, err)
	require.Empty(t, res.Changed)
}

func TestApplyNoChangeWritesNothing(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c, err := Load(tb.dir, "", []string{"LSDVR_SERVER_TOKEN=abc"})
	require.NoError(t, err)
	res, err := c.Apply(context.Background(), map[string]any{
		"log.level":    "info",
		"server.token": RedactedValue, // what GET showed: leave as is
	})
	require.NoError(t, err)
	require.Equal(t, Result{Changed: []string{}, RestartRequired: []string{}}, res)
	_, err = os.Stat(c.Path())
	require.True(t, os.IsNotExist(err), "no file written")
}

func TestApplySecretKeptWhenRedactedSentBack(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.write(t, TOMLFile, "[twitch]\nclient_secret = \"real-secret\"\n")
	c, err := Load(tb.dir, "", nil)
	require.NoError(t, err)
	red := c.Redacted()
	red["log.level"] = "warn"
	res, err := c.Apply(context.Background(), red)
	require.NoError(t, err)
	require.Equal(t, []string{"log.level"}, res.Changed)
	require.Equal(t, "real-secret", c.Settings().Twitch.ClientSecret)
	again, err := Load(tb.dir, "", nil)
	require.NoError(t, err)
	require.Equal(t, "real-secret", again.Settings().Twitch.ClientSecret)
	require.Equal(t, "warn", again.Settings().Log.Level)
}

func TestApplyNullResetsToDefault(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.write(t, YAMLFile, "webhook:\n  workers: 9\nlog:\n  level: warn\n")
	c, err := Load(tb.dir, "", nil)
	require.NoError(t, err)
	res, err := c.Apply(context.Background(), map[string]any{"webhook.workers": nil})
	require.NoError(t, err)
	require.Equal(t, []string{"webhook.workers"}, res.Changed)
	require.Equal(t, 32, c.Settings().Webhook.Workers)
	require.Equal(t, SourceDefault, c.Sources()["webhook.workers"])
	raw, err := os.ReadFile(c.Path())
	require.NoError(t, err)
	require.NotContains(t, string(raw), "workers")
	require.Contains(t, string(raw), "level: warn")
}

func codeOf(err error) string { return dvr.ErrorCode(err) }
