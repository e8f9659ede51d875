package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/config"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

func TestParseAssignments(t *testing.T) {
	t.Parallel()
	types := map[string]string{"server.token": "string", "webhook.workers": "int", "notify.categories": "strings", "webhook.timeout": "duration"}
	got, err := parseAssignments([]string{
		"server.token=12345",
		"webhook.workers=16",
		`notify.categories=["live","test"]`,
		"webhook.timeout=30s",
		"log.level=null",
	}, types)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"server.token":      "12345",
		"webhook.workers":   float64(16),
		"notify.categories": []any{"live", "test"},
		"webhook.timeout":   "30s",
		"log.level":         nil,
	}, got)

	_, err = parseAssignments([]string{"webhook.timeout"}, types)
	require.EqualError(t, err, `argument "webhook.timeout" must look like KEY=VALUE, e.g. webhook.timeout=30s`)
	_, err = parseAssignments([]string{"a=1", "a=2"}, types)
	require.EqualError(t, err, "key a is given twice")
}

// configCLIBundle is the testBundle of the config subcommand.
type configCLIBundle struct {
	cliServer
	db *store.DB
}

func setupConfigCLI(t *testing.T) *configCLIBundle {
	t.Helper()
	cfg, err := config.Load(t.TempDir(), "", []string{"LSDVR_LOG_LEVEL=debug"})
	require.NoError(t, err)
	db := openDB(t)
	url := serveAPI(t, api.NewConfigResource(cfg, event.NewBus(db, nil)))
	return &configCLIBundle{cliServer: cliServer{url: url}, db: db}
}

func TestConfigCommand(t *testing.T) {
	t.Parallel()
	b := setupConfigCLI(t)

	out, err := b.run(t, "config", "set", "webhook.timeout=45s", "webhook.workers=16")
	require.NoError(t, err)
	require.Equal(t, "webhook.timeout = 45s\nwebhook.workers = 16\nrestart the server for these to take effect: webhook.workers\n", out)

	out, err = b.run(t, "config")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^KEY\s+VALUE\s+SOURCE$`, out)
	require.Regexp(t, `(?m)^webhook\.timeout\s+45s\s+file$`, out)
	require.Regexp(t, `(?m)^log\.level\s+debug\s+env$`, out)
	require.Regexp(t, `(?m)^server\.token\s+""\s+default$`, out)

	out, err = b.run(t, "--json", "config", "set", "webhook.timeout=45s")
	require.NoError(t, err)
	var upd map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &upd))
	require.Equal(t, []any{}, upd["changed"])

	_, err = b.run(t, "config", "set", "log.level=warn")
	require.ErrorContains(t, err, "log.level is set by the environment variable LSDVR_LOG_LEVEL and cannot be changed here (HTTP 409, conflict)")

	out, err = b.run(t, "config", "options")
	require.NoError(t, err)
	require.Contains(t, out, "webhook.timeout (LSDVR_WEBHOOK_TIMEOUT, duration, default 15s)\n")
	require.Contains(t, out, "server.token (LSDVR_SERVER_TOKEN, string, default \"\") secret\n")
}
