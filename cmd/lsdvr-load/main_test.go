package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
	"github.com/lsdvr/lsdvr/internal/webhook"
	"github.com/lsdvr/lsdvr/internal/ws"
)

type testBundle struct {
	url   string
	bus   *event.Bus
	hooks *webhook.Service
}

// setup runs the notify and webhook routes, the webhook service and the hub
// in-process on 127.0.0.1.
func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	bus := event.NewBus(db, nil)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := ws.New(ws.Config{}, db, bus, logger)
	require.NoError(t, hub.Start(ctx))
	hooks, err := webhook.New(webhook.Config{}, db, bus, logger)
	require.NoError(t, err)
	require.NoError(t, hooks.Start(ctx))
	srv := api.New(logger, api.NewEvents(db, bus), api.NewWebhooks(hooks))
	srv.Handle("GET /api/v1/ws", hub)
	hs := httptest.NewUnstartedServer(srv)
	hs.Listener.Close()
	hs.Listener, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs.Start()
	t.Cleanup(func() {
		_ = hub.Stop(ctx)
		hs.Close()
		stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		require.NoError(t, hooks.Stop(stopCtx))
	})
	return &testBundle{url: hs.URL, bus: bus, hooks: hooks}
}

func TestLoadWS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var out strings.Builder
	err := run(context.Background(), []string{"ws", "--server", b.url, "--clients", "20", "--rate", "40",
		"--duration", "500ms", "--grace", "30s", "--pid", strconv.Itoa(os.Getpid())}, &out)
	require.NoError(t, err, out.String())

	report := out.String()
	require.Contains(t, report, "connected 20 clients")
	m := regexp.MustCompile(`published (\d+) events \(0 errors\)`).FindStringSubmatch(report)
	require.NotNil(t, m, report)
	n, _ := strconv.Atoi(m[1])
	require.Greater(t, n, 5, report)
	require.Regexp(t, `published \d+ events \(0 errors\) in 500ms: [\d.]+/s \(target 40/s\)`, report)
	require.Contains(t, report, "reached every client: "+m[1]+"/"+m[1]+" events", report)
	require.Regexp(t, `publish to last client: p50 \S+  p99 \S+  max \S+  \(n=`+m[1]+`\)`, report)
	require.Contains(t, report, "dropped clients: 0")
	require.Regexp(t, `server memory: rss \d+ kB, peak \d+ kB`, report)
}

func TestRunRejectsBadUsage(t *testing.T) {
	t.Parallel()
	require.ErrorContains(t, run(context.Background(), nil, io.Discard), "usage: lsdvr-load ws")
	require.ErrorContains(t, run(context.Background(), nil, io.Discard), "usage: lsdvr-load webhook")
	require.ErrorContains(t, run(context.Background(), []string{"http"}, io.Discard), `unknown mode "http"`)
	require.ErrorContains(t, run(context.Background(), []string{"ws", "--clients", "0"}, io.Discard), "must be positive")
}

func TestEnvelopeHead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ev, err := b.bus.PublishNow(context.Background(), event.Notify{Title: "t", Category: "load"})
	require.NoError(t, err)
	seq, ts, ok := envelopeHead(ev.Body)
	require.True(t, ok)
	require.Equal(t, ev.Seq, seq)
	require.True(t, ev.Timestamp.Equal(ts), "%s vs %s", ev.Timestamp, ts)

	_, _, ok = envelopeHead([]byte("pong"))
	require.False(t, ok)
	require.WithinDuration(t, time.Now(), ts, time.Minute)
}
