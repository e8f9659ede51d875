package record_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
)

// convWait bounds every wait of the conversion tests.
const convWait = 30 * time.Second

// partSeconds is the length of each test capture part.
const partSeconds = 2

// convBundle is a library with a Converter, real ffmpeg and ffprobe, and
// optionally a job service running the conversion worker.
type convBundle struct {
	*testBundle
	conv    *record.Converter
	jobs    *job.Service
	ffmpeg  string
	ffprobe string
	seen    *eventWaiter
}

type convOpts struct {
	config func(*record.ConverterConfig)
	jobs   bool // build a job service (not started: see startJobs)
}

func setupConvert(t *testing.T, o convOpts) *convBundle {
	t.Helper()
	tb := setup(t)
	seen := newEventWaiter()
	tb.bus.Subscribe(seen.add)
	ffmpeg, err := exec.LookPath("ffmpeg")
	require.NoError(t, err)
	ffprobe, err := exec.LookPath("ffprobe")
	require.NoError(t, err)
	cfg := record.ConverterConfig{FFmpegPath: ffmpeg, FFprobePath: ffprobe, Now: tb.clock.Now}
	if o.config != nil {
		o.config(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cb := &convBundle{testBundle: tb, conv: record.NewConverter(cfg, tb.lib, tb.bus, logger), ffmpeg: ffmpeg, ffprobe: ffprobe, seen: seen}
	if o.jobs {
		workers := river.NewWorkers()
		require.NoError(t, cb.conv.AddWorkers(workers))
		cb.jobs, err = job.New(job.Config{Workers: workers, FetchPollInterval: 20 * time.Millisecond,
			FetchCooldown: 5 * time.Millisecond, TestOnly: true}, tb.db, tb.bus, logger)
		require.NoError(t, err)
	}
	return cb
}

// startJobs starts the job service; it stops when the test ends.
func (cb *convBundle) startJobs(t *testing.T) {
	t.Helper()
	require.NoError(t, cb.jobs.Start(cb.ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, cb.jobs.Stop(ctx))
	})
}

// capturedVOD makes a VOD as a capture leaves it: status capturing,
// chapters "Hello (Just Chatting)" at 0 s and "Hello (Tetris)" at 2 s when
// withChapters, nparts real MPEG-TS parts of partSeconds each and a
// capture.log. It returns the VOD and its folder.
func (cb *convBundle) capturedVOD(t *testing.T, channel string, nparts int, withChapters bool) (dvr.VOD, string) {
	t.Helper()
	c, err := cb.lib.GetChannelByName(cb.ctx, channel)
	if err != nil {
		c = newChannel(t, cb.testBundle, channel)
	}
	v, err := cb.lib.CreateVOD(cb.ctx, record.CreateVODParams{ChannelID: c.ID, Title: "Hello", StartedAt: t0})
	require.NoError(t, err)
	if withChapters {
		_, err = cb.lib.AddChapter(cb.ctx, v.ID, record.ChapterParams{Title: "Hello", Category: "Just Chatting", StartedAt: t0})
		require.NoError(t, err)
		_, err = cb.lib.AddChapter(cb.ctx, v.ID, record.ChapterParams{Title: "Hello", Category: "Tetris", StartedAt: t0.Add(partSeconds * time.Second)})
		require.NoError(t, err)
	}
	dir, err := record.VODDir(cb.storage, v.ChannelName, v.Basename)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for i := 1; i <= nparts; i++ {
		cb.makePart(t, filepath.Join(dir, fmt.Sprintf("%s.part%03d.ts", v.Basename, i)))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "capture.log"), []byte("capture output\n"), 0o644))
	v, err = cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	return v, dir
}

// makePart writes a partSeconds MPEG-TS file with video and audio.
func (cb *convBundle) makePart(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(cb.ctx, convWait)
	defer cancel()
	require.NoError(t, media.Run(ctx, media.Cmd{Path: cb.ffmpeg, Args: []string{
		"-nostdin", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", fmt.Sprint(partSeconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
		"-f", "mpegts", "-n", path,
	}}))
}

// probe runs ffprobe on path.
func (cb *convBundle) probe(t *testing.T, path string) media.ProbeResult {
	t.Helper()
	var out strings.Builder
	require.NoError(t, media.Run(cb.ctx, media.Cmd{Path: cb.ffprobe, Args: media.FFprobeArgs(path), OnLine: func(stream, line string) {
		if stream == media.Stdout {
			out.WriteString(line + "\n")
		}
	}}))
	res, err := media.ParseFFprobe([]byte(out.String()))
	require.NoError(t, err)
	return res
}

// partsDuration is the total duration of the VOD's parts, as ffprobe sees it.
func (cb *convBundle) partsDuration(t *testing.T, dir string) time.Duration {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(dir, "*.ts"))
	require.NoError(t, err)
	require.NotEmpty(t, parts)
	var total time.Duration
	for _, p := range parts {
		total += cb.probe(t, p).Duration
	}
	return total
}

// markConverting moves the VOD to converting, as the capture does when it
// ends, without queueing a job.
func (cb *convBundle) markConverting(t *testing.T, id int64) {
	t.Helper()
	require.NoError(t, cb.db.InTx(cb.ctx, func(tx *store.Tx) error {
		_, err := cb.lib.MarkConverting(cb.ctx, tx, id)
		return err
	}))
}

// queueConvert moves the VOD to converting and queues its conversion job.
func (cb *convBundle) queueConvert(t *testing.T, id int64, interrupted bool) {
	t.Helper()
	require.NoError(t, cb.db.InTx(cb.ctx, func(tx *store.Tx) error {
		_, err := cb.lib.QueueConvertTx(cb.ctx, tx, cb.jobs, id, interrupted)
		return err
	}))
}

// vodEvents returns the logged events about VOD id (data.vod.id) or about
// nothing in particular (notify, alert), in order.
func (cb *convBundle) vodEvents(t *testing.T, id int64) []loggedEvent {
	t.Helper()
	var out []loggedEvent
	for _, ev := range cb.events(t) {
		if ev.Action == event.ActionNotify || ev.Action == event.ActionAlert || vodID(ev.Data) == id {
			out = append(out, ev)
		}
	}
	return out
}

// vodID is data.vod.id of an event, or 0.
func vodID(data map[string]any) int64 {
	v, ok := data["vod"].(map[string]any)
	if !ok {
		return 0
	}
	id, _ := v["id"].(float64)
	return int64(id)
}

func actionsOf(evs []loggedEvent, keep ...event.Action) []event.Action {
	var out []event.Action
	for _, ev := range evs {
		if len(keep) == 0 || slices.Contains(keep, ev.Action) {
			out = append(out, ev.Action)
		}
	}
	return out
}

func firstOf(t *testing.T, evs []loggedEvent, a event.Action) loggedEvent {
	t.Helper()
	for _, ev := range evs {
		if ev.Action == a {
			return ev
		}
	}
	t.Fatalf("no %s event in %v", a, actionsOf(evs))
	return loggedEvent{}
}

// eventWaiter keeps every event the bus delivers and wakes waiters.
type eventWaiter struct {
	mu      sync.Mutex
	events  []*event.Event
	changed chan struct{}
}

func newEventWaiter() *eventWaiter { return &eventWaiter{changed: make(chan struct{})} }

func (w *eventWaiter) add(ev *event.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, ev)
	close(w.changed)
	w.changed = make(chan struct{})
}

// waitFor waits until pred holds for an event seen so far and returns it.
func (w *eventWaiter) waitFor(t *testing.T, what string, pred func(a event.Action, data map[string]any) bool) {
	t.Helper()
	deadline := time.NewTimer(convWait)
	defer deadline.Stop()
	next := 0
	for {
		w.mu.Lock()
		evs := w.events[next:]
		ch := w.changed
		w.mu.Unlock()
		for _, ev := range evs {
			next++
			var env struct {
				Data map[string]any `json:"data"`
			}
			require.NoError(t, json.Unmarshal(ev.Body, &env))
			if pred(ev.Action, env.Data) {
				return
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitVOD waits for action about VOD id.
func (w *eventWaiter) waitVOD(t *testing.T, action event.Action, id int64) {
	t.Helper()
	w.waitFor(t, fmt.Sprintf("%s of vod %d", action, id), func(a event.Action, data map[string]any) bool {
		return a == action && vodID(data) == id
	})
}
