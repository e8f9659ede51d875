package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
)

// tail follows the server's websocket from the start of the log and returns
// a channel of envelopes and the connected message.
func tail(t *testing.T, s *server) (<-chan event.Envelope, <-chan event.Connected) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	envs := make(chan event.Envelope, 1000)
	conns := make(chan event.Connected, 10)
	go func() {
		_ = s.Client.TailEvents(ctx, client.TailParams{After: 0, OnConnect: func(c event.Connected) { conns <- c }},
			func(env event.Envelope, raw []byte) error {
				envs <- env
				return nil
			})
	}()
	return envs, conns
}

// await reads envelopes until one of action satisfies ok, failing after 30 s.
func await(t *testing.T, envs <-chan event.Envelope, action event.Action, ok func(data []byte) bool) event.Envelope {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case env := <-envs:
			if env.Action == action && (ok == nil || ok(env.Data)) {
				return env
			}
		case <-deadline:
			t.Fatalf("no %s event within 30s", action)
		}
	}
}

// TestServeBackbone runs `lsdvr serve` and checks, as a user would, what the
// event backbone emits over the websocket and to a webhook receiver, then
// that SIGTERM stops it cleanly.
func TestServeBackbone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServer(t, dir, "LSDVR_TWITCH_CLIENT_SECRET=hunter2-secret")
	ctx := context.Background()

	envs, conns := tail(t, srv)
	select {
	case c := <-conns:
		require.Equal(t, "dev", c.Version)
		require.NotEmpty(t, c.ClientID)
	case <-time.After(30 * time.Second):
		t.Fatal("no connected message")
	}

	// init: once per start, first in the log.
	initEv := await(t, envs, event.ActionInit, nil)
	require.Equal(t, int64(1), initEv.Seq)

	// The maintenance jobs run at start and report themselves.
	await(t, envs, event.ActionJobSave, func(d []byte) bool { return strings.Contains(string(d), "maintenance.prune_events") })
	await(t, envs, event.ActionJobUpdate, func(d []byte) bool {
		return strings.Contains(string(d), "maintenance.prune_events") && strings.Contains(string(d), `"state":"completed"`)
	})
	await(t, envs, event.ActionJobClear, func(d []byte) bool { return strings.Contains(string(d), "maintenance.prune_events") })

	// A webhook endpoint added with the CLI receives a signed test event.
	secret := "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	recv := newReceiver(t, secret)
	out, err := runCLI(t, srv, "webhook", "add", recv.URL, "--secret", secret, "--json")
	require.NoError(t, err)
	var ep struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &ep))
	require.Equal(t, secret, ep.Secret)
	_, err = runCLI(t, srv, "webhook", "test", jsonNumber(ep.ID))
	require.NoError(t, err)
	testEv := await(t, envs, event.ActionNotify, func(d []byte) bool { return strings.Contains(string(d), `"category":"test"`) })
	deadline := time.After(30 * time.Second)
	for {
		arrivals, bad := recv.snapshot()
		require.Empty(t, bad)
		if arrivals[testEv.ID] > 0 {
			break
		}
		select {
		case <-recv.changed:
		case <-deadline:
			t.Fatal("the test event never reached the receiver")
		}
	}

	// config_save names the changed keys and never shows a secret.
	var res struct {
		Changed []string `json:"changed"`
	}
	require.NoError(t, srv.Client.Do(ctx, "PUT", "/api/v1/config", map[string]any{"events.log_rate": 20}, &res))
	require.Equal(t, []string{"events.log_rate"}, res.Changed)
	saved := await(t, envs, event.ActionConfigSave, nil)
	require.Contains(t, string(saved.Data), `"changed":["events.log_rate"]`)
	require.NotContains(t, string(saved.Data), "hunter2-secret")

	// A bad value is refused with a precise message and nothing is saved.
	err = srv.Client.Do(ctx, "PUT", "/api/v1/config", map[string]any{"log.level": "loud"}, nil)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.Status)
	require.Contains(t, apiErr.Message, "log.level")

	// Health and metrics.
	resp, err := http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	for _, name := range []string{"lsdvr_events_published_total", "lsdvr_webhook_attempts_total",
		"lsdvr_webhook_delivery_latency_seconds", "lsdvr_ws_clients"} {
		require.Contains(t, string(metrics), name)
	}

	// SIGTERM: a clean, prompt exit; the next start emits init again.
	srv.Terminate(t, 20*time.Second)
	require.Equal(t, 0, srv.cmd.ProcessState.ExitCode(), "server log:\n%s", srv.Log())
	srv2 := startServer(t, dir)
	var page eventPage
	require.NoError(t, srv2.Client.Do(ctx, "GET", "/api/v1/events?action=init", nil, &page))
	require.Len(t, page.Items, 2, "one init per start")
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestServeRequiresTokenWhenConfigured checks that server.token guards the
// API and the websocket upgrade, and leaves /healthz open.
func TestServeRequiresTokenWhenConfigured(t *testing.T) {
	t.Parallel()
	srv := startServer(t, t.TempDir(), "LSDVR_SERVER_TOKEN=s3cret-token")
	ctx := context.Background()

	err := srv.Client.Do(ctx, "GET", "/api/v1/events", nil, nil)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.Status)

	resp, err := http.Get(srv.URL + "/api/v1/ws")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the websocket upgrade must be refused without the token")

	resp, err = http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	authed, err := client.New(srv.URL, "s3cret-token")
	require.NoError(t, err)
	require.NoError(t, authed.Do(ctx, "GET", "/api/v1/events", nil, nil))
	out, err := runCLI(t, srv, "--token", "s3cret-token", "events", "list", "--json")
	require.NoError(t, err)
	require.Contains(t, out, `"action": "init"`)
}

// TestServeWithoutMediaTools checks that lsdvr starts on a machine without
// ffmpeg and streamlink, says that recording is disabled, and refuses to
// record with that message instead of failing later.
func TestServeWithoutMediaTools(t *testing.T) {
	t.Parallel()
	srv := startServer(t, t.TempDir(), "PATH="+t.TempDir())
	require.Contains(t, srv.Log(), "recording is disabled")

	ctx := context.Background()
	var ch struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, srv.Client.Do(ctx, "POST", "/api/v1/channels",
		map[string]any{"name": "demo", "url": "http://127.0.0.1:9/live.m3u8"}, &ch))
	err := srv.Client.Do(ctx, "POST", "/api/v1/channels/"+jsonNumber(ch.ID)+"/record", nil, nil)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusServiceUnavailable, apiErr.Status)
	require.Contains(t, apiErr.Message, "recording is disabled")
}
