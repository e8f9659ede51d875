package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/config"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// configBundle is the testBundle of the config resource; the name avoids
// clashing with other resources' bundles in this package.
type configBundle struct {
	db  *store.DB
	cfg *config.Config
	dir string
	url string
}

func setupConfig(t *testing.T, environ ...string) *configBundle {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(dir, "", environ)
	require.NoError(t, err)
	db := openDB(t)
	url := serve(t, api.NewConfigResource(cfg, event.NewBus(db, nil)))
	return &configBundle{db: db, cfg: cfg, dir: dir, url: url}
}

// do sends body to the one config path.
func (b *configBundle) do(t *testing.T, method, body string) (int, []byte) {
	t.Helper()
	return doJSON(t, b.url, method, "/api/v1/config", body)
}

func (b *configBundle) events(t *testing.T) []*event.Event {
	t.Helper()
	evs, err := event.List(context.Background(), b.db.Read, event.ListParams{})
	require.NoError(t, err)
	return evs
}

func TestConfigGet(t *testing.T) {
	t.Parallel()
	b := setupConfig(t, "LSDVR_SERVER_TOKEN=tok-very-secret", "LSDVR_WEBHOOK_WORKERS=16")
	status, raw := b.do(t, http.MethodGet, "")
	require.Equal(t, http.StatusOK, status, string(raw))
	require.NotContains(t, string(raw), "tok-very-secret")

	var view api.ConfigView
	require.NoError(t, json.Unmarshal(raw, &view))
	require.Equal(t, "********", view.Config["server.token"])
	require.Equal(t, "", view.Config["twitch.client_secret"])
	require.Equal(t, float64(16), view.Config["webhook.workers"])
	require.Equal(t, "15s", view.Config["webhook.timeout"])
	require.Equal(t, config.SourceEnv, view.Sources["server.token"])
	require.Equal(t, config.SourceEnv, view.Sources["webhook.workers"])
	require.Equal(t, config.SourceDefault, view.Sources["webhook.timeout"])
	require.Len(t, view.Options, len(config.Options()))

	var opts []map[string]any
	require.NoError(t, json.Unmarshal(mustField(t, raw, "options"), &opts))
	var timeout map[string]any
	for _, o := range opts {
		if o["key"] == "webhook.timeout" {
			timeout = o
		}
	}
	require.Equal(t, "LSDVR_WEBHOOK_TIMEOUT", timeout["env"])
	require.Equal(t, "duration", timeout["type"])
	require.Equal(t, "15s", timeout["default"])
	require.Equal(t, false, timeout["secret"])
	require.Equal(t, false, timeout["restart"])
	require.NotEmpty(t, timeout["doc"])
}

func mustField(t *testing.T, raw []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return m[name]
}

func TestConfigPutSavesAndPublishes(t *testing.T) {
	t.Parallel()
	b := setupConfig(t)
	status, raw := b.do(t, http.MethodPut, `{"webhook.timeout":"45s","webhook.workers":12,"twitch.client_secret":"shh-do-not-tell","log.level":"info"}`)
	require.Equal(t, http.StatusOK, status, string(raw))
	require.NotContains(t, string(raw), "shh-do-not-tell")
	var upd api.ConfigUpdate
	require.NoError(t, json.Unmarshal(raw, &upd))
	require.Equal(t, []string{"twitch.client_secret", "webhook.timeout", "webhook.workers"}, upd.Changed)
	require.Equal(t, []string{"twitch.client_secret", "webhook.workers"}, upd.RestartRequired)
	require.Equal(t, "45s", upd.Config["webhook.timeout"])
	require.Equal(t, "********", upd.Config["twitch.client_secret"])

	saved, err := os.ReadFile(filepath.Join(b.dir, config.YAMLFile))
	require.NoError(t, err)
	require.Contains(t, string(saved), "45s")

	evs := b.events(t)
	require.Len(t, evs, 1)
	require.Equal(t, event.ActionConfigSave, evs[0].Action)
	require.NotContains(t, string(evs[0].Body), "shh-do-not-tell", "a secret never appears in an event")
	var env struct {
		Data event.ConfigSave `json:"data"`
	}
	require.NoError(t, json.Unmarshal(evs[0].Body, &env))
	require.Equal(t, upd.Changed, env.Data.Changed)
	require.Equal(t, "********", env.Data.Config["twitch.client_secret"])
	require.Equal(t, "45s", env.Data.Config["webhook.timeout"])

	// GET now shows the file as the source.
	_, raw = b.do(t, http.MethodGet, "")
	var view api.ConfigView
	require.NoError(t, json.Unmarshal(raw, &view))
	require.Equal(t, config.SourceFile, view.Sources["webhook.timeout"])
}

func TestConfigPutWithoutChange(t *testing.T) {
	t.Parallel()
	b := setupConfig(t, "LSDVR_SERVER_TOKEN=abc")
	status, raw := b.do(t, http.MethodPut, `{"webhook.timeout":"15s","server.token":"********"}`)
	require.Equal(t, http.StatusOK, status, string(raw))
	var upd api.ConfigUpdate
	require.NoError(t, json.Unmarshal(raw, &upd))
	require.Equal(t, []string{}, upd.Changed)
	require.Equal(t, []string{}, upd.RestartRequired)
	require.Empty(t, b.events(t), "no change, no event")
	_, err := os.Stat(filepath.Join(b.dir, config.YAMLFile))
	require.True(t, os.IsNotExist(err))
}

func TestConfigPutRejects(t *testing.T) {
	t.Parallel()
	b := setupConfig(t, "LSDVR_WEBHOOK_TIMEOUT=20s")
	tests := []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"unknown key", `{"webhook.timout":"1s"}`, 400, "invalid", `unknown config key "webhook.timout"`},
		{"env key", `{"webhook.timeout":"30s"}`, 409, "conflict", "webhook.timeout is set by the environment variable LSDVR_WEBHOOK_TIMEOUT and cannot be changed here"},
		{"bad value", `{"webhook.jitter":2,"log.level":"loud"}`, 400, "invalid", `log.level (request): must be one of debug, info, warn, error, got "loud"; webhook.jitter (request): must be between 0 and 1, got 2`},
		{"wrong type", `{"webhook.workers":"many"}`, 400, "invalid", `webhook.workers: must be an integer, got "many"`},
		{"secret not echoed", `{"twitch.eventsub_secret":"tiny"}`, 400, "invalid", `twitch.eventsub_secret (request): must be 10 to 100 characters long, got ********`},
		{"not an object", `["webhook.timeout"]`, 400, "invalid", `body must be a JSON object of config keys and values, e.g. {"webhook.timeout": "30s"}`},
		{"malformed", `{"webhook.timeout":`, 400, "invalid", "body is not valid JSON: unexpected end"},
	}
	for _, tt := range tests {
		status, raw := b.do(t, http.MethodPut, tt.body)
		require.Equal(t, tt.status, status, tt.name)
		var e api.ErrorBody
		require.NoError(t, json.Unmarshal(raw, &e), tt.name)
		require.Equal(t, tt.code, e.Error.Code, tt.name)
		require.Equal(t, tt.msg, e.Error.Message, tt.name)
	}
	require.Empty(t, b.events(t))
	_, err := os.Stat(filepath.Join(b.dir, config.YAMLFile))
	require.True(t, os.IsNotExist(err), "nothing written")
}
