package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/ws"
)

// eventsCLIBundle is the testBundle of the events subcommands: the real
// event routes and websocket hub on 127.0.0.1.
type eventsCLIBundle struct {
	bus *event.Bus
	url string
}

func setupEventsCLI(t *testing.T) *eventsCLIBundle {
	t.Helper()
	ctx := context.Background()
	db := openDB(t)
	bus := event.NewBus(db, nil)
	hub := ws.New(ws.Config{Version: "v9", ResumeWait: 10 * time.Millisecond}, db, bus, quietLogger())
	require.NoError(t, hub.Start(ctx))
	srv := api.New(quietLogger(), api.NewEvents(db, bus))
	srv.Handle("GET /api/v1/ws", hub)
	url := serveHTTP(t, srv)
	// Registered after the server's, so it runs first: the hub stops
	// before the server closes.
	t.Cleanup(func() { _ = hub.Stop(ctx) })
	return &eventsCLIBundle{bus: bus, url: url}
}

// lineWriter collects output and cancels the command after n lines, as
// Ctrl-C would.
type lineWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Count(w.buf.String(), "\n") >= w.n {
		w.cancel()
	}
	return len(p), nil
}

// run runs the CLI in process until it returns or has printed lines lines.
// It may run outside the test goroutine, so it reports instead of failing.
func (b *eventsCLIBundle) run(lines int, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := &lineWriter{n: lines, cancel: cancel}
	var errOut bytes.Buffer
	err := execCLI(ctx, b.url, out, &errOut, args...)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = errors.Join(err, errors.New("the command did not finish in time"))
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	return out.buf.String(), errOut.String(), err
}

func TestEventsCommands(t *testing.T) {
	t.Parallel()
	b := setupEventsCLI(t)
	ctx := context.Background()
	var bodies []string
	for _, d := range []event.Data{
		event.Notify{Title: "demo is live", Category: "live"},
		event.Alert{Text: "disk almost full", Level: event.LevelWarning},
		event.Notify{Title: "demo is offline", Category: "offline"},
	} {
		ev, err := b.bus.PublishNow(ctx, d)
		require.NoError(t, err)
		bodies = append(bodies, string(ev.Body))
	}

	out, _, err := b.run(100, "events", "list", "--action", "notify")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  #1  notify           \[live\] demo is live$`, lines[0])
	require.Contains(t, lines[1], "#3  notify")

	out, _, err = b.run(100, "events", "list", "--after", "1", "--limit", "1", "--json")
	require.NoError(t, err)
	var page struct {
		Items   []json.RawMessage `json:"items"`
		LastSeq int64             `json:"last_seq"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Items, 1)
	require.JSONEq(t, bodies[1], string(page.Items[0]))
	require.Equal(t, int64(3), page.LastSeq)

	_, _, err = b.run(100, "events", "list", "--action", "bogus")
	require.EqualError(t, err, `unknown action "bogus"`)

	// tail replays from --after, then follows; --json prints the envelopes
	// byte for byte, one per line.
	out, errOut, err := b.run(2, "events", "tail", "--after", "1", "--json")
	require.NoError(t, err, "Ctrl-C ends tail without an error")
	require.Equal(t, bodies[1]+"\n"+bodies[2]+"\n", out)
	require.Contains(t, errOut, "connected to lsdvr v9 (last seq #3)")

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := b.run(1, "events", "tail", "--action", "alert")
		done <- result{out, err}
	}()
	// tail without --after only prints what happens from now on.
	for {
		_, err := b.bus.PublishNow(ctx, event.Alert{Text: "endpoint disabled", Level: event.LevelError})
		require.NoError(t, err)
		select {
		case res := <-done:
			require.NoError(t, res.err)
			require.Contains(t, res.out, "alert            ERROR endpoint disabled")
			require.NotContains(t, res.out, "disk almost full")
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	vod := dvr.VOD{ID: 7, Basename: "demo_2026-12-04", ChannelName: "demo", Status: "capturing"}
	tests := []struct {
		name string
		data event.Data
		want string
	}{
		{"init", event.Init{Version: "v1.0.0", Instance: "i1"}, "version=v1.0.0 instance=i1"},
		{"connected", event.Connected{ClientID: "wsc_1", Version: "v1", LastSeq: 9}, "client=wsc_1 version=v1 last_seq=9"},
		{"start_capture", event.StartCapture{VOD: vod}, "demo/demo_2026-12-04 status=capturing"},
		{"end_capture ok", event.EndCapture{VOD: vod, Success: true}, "demo/demo_2026-12-04 success=true"},
		{"end_convert failed", event.EndConvert{VOD: vod, Success: false, Reason: "ffmpeg exited 1"},
			`demo/demo_2026-12-04 success=false reason="ffmpeg exited 1"`},
		{"chapter_update", event.ChapterUpdate{VOD: vod, Chapter: dvr.Chapter{Title: "Speedrun", Category: "Celeste"}},
			"demo/demo_2026-12-04 title=Speedrun category=Celeste"},
		{"vod without names", event.VODUpdated{VOD: dvr.VOD{ID: 3}}, "vod#3"},
		{"vod_removed", event.VODRemoved{Basename: "b", Channel: "c", Reason: "retention"}, "c/b reason=retention"},
		{"channel_updated", event.ChannelUpdated{Channel: dvr.Channel{Name: "demo", IsLive: true, Title: "hi there"}},
			`demo live=true title="hi there"`},
		{"chat_download", event.ChatDownload{VOD: vod, Success: true, Path: "demo/x/chat.json"},
			"demo/demo_2026-12-04 success=true path=demo/x/chat.json"},
		{"vod_download by url", event.VODDownload{URL: "https://t.tv/v/1", Success: false}, "https://t.tv/v/1 success=false"},
		{"video_download", event.VideoDownload{URL: "https://x/y", Success: true, Path: "tools/y.mp4"},
			"https://x/y success=true path=tools/y.mp4"},
		{"job_update", event.JobUpdate{JobName: "convert demo", Job: event.Job{State: "failed", Error: "exit 1"}},
			`convert demo state=failed error="exit 1"`},
		{"job_progress", event.JobProgress{JobName: "capture", Progress: 0.425, Text: "120 MB"}, "capture 42.5% 120 MB"},
		{"config_save", event.ConfigSave{Changed: []string{"a.b", "c"}}, "changed=a.b,c"},
		{"notify", event.Notify{Title: "demo is live", Body: "Playing\nCeleste", Category: "live"}, "[live] demo is live: Playing Celeste"},
		{"alert", event.Alert{Text: "disk almost full", Level: event.LevelCritical}, "CRITICAL disk almost full"},
		{"log", event.Log{Level: "WARN", Module: "record", Message: "retrying capture"}, "WARN record: retrying capture"},
		{"log without module", event.Log{Level: "ERROR", Message: "boom"}, "ERROR boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, err := json.Marshal(tt.data)
			require.NoError(t, err)
			require.Equal(t, tt.want, summarize(tt.data.Action(), raw))
		})
	}
}

func TestSummarizeFallsBackToJSON(t *testing.T) {
	t.Parallel()
	require.Equal(t, `{"x":1}`, summarize("future_action", json.RawMessage(`{ "x": 1 }`)))
	require.Equal(t, `{"vod":"not an object"}`, summarize(event.ActionEndCapture, json.RawMessage(`{"vod":"not an object"}`)))
	require.Equal(t, "", summarize("future_action", json.RawMessage(`{}`)))
	long := summarize(event.ActionNotify, json.RawMessage(`{"title":"`+strings.Repeat("é", 500)+`","category":"x"}`))
	require.Equal(t, maxSummary, len([]rune(long)))
	require.True(t, strings.HasSuffix(long, "…"))
}

func TestFormatEvent(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(event.EndCapture{VOD: dvr.VOD{Basename: "demo_2026-12-04", ChannelName: "demo"}, Success: true})
	require.NoError(t, err)
	env := event.Envelope{ID: "evt_1", Seq: 1234, Action: event.ActionEndCapture, Timestamp: "2026-12-04T19:20:00.123Z", Data: data}
	require.Equal(t, "2026-12-04 19:20:00.123  #1234  end_capture      demo/demo_2026-12-04 success=true",
		formatEvent(env, time.UTC))
	paris := time.FixedZone("CET", 3600)
	require.True(t, strings.HasPrefix(formatEvent(env, paris), "2026-12-04 20:20:00.123  #1234"))
}

func TestValidateActions(t *testing.T) {
	t.Parallel()
	require.NoError(t, validateActions([]string{"notify", "end_capture"}))
	require.EqualError(t, validateActions([]string{"notify", "nope"}), `unknown action "nope"`)
}
