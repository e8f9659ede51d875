package record_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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

// capWait bounds every wait of the capture tests: a few seconds of stream,
// a conversion, and slack for a loaded machine.
const capWait = 60 * time.Second

// findTools looks the tools up once for the whole package: streamlink
// takes a second to print its version.
var findTools = sync.OnceValue(func() media.Tools {
	return media.FindTools(context.Background(), media.ToolPaths{})
})

// captureBundle is a Recorder over a fresh database with a running job
// service and the conversion worker, all on real tools.
type captureBundle struct {
	ctx     context.Context
	db      *store.DB
	bus     *event.Bus
	lib     *record.Library
	jobs    *job.Service
	rec     *record.Recorder
	storage string
	seen    *capEvents
}

type captureOpts struct {
	// config adjusts the Recorder's configuration after the test defaults.
	config func(*record.RecorderConfig)
	// tools replaces the tools found on PATH.
	tools *media.Tools
	// noStart leaves the Recorder stopped.
	noStart bool
}

// setupCapture builds the bundle; everything stops when the test ends.
// The defaults make captures react fast: a metadata probe every 200 ms,
// restarts after 50 ms, and the first poll of a channel at once.
func setupCapture(t *testing.T, o captureOpts) *captureBundle {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	bus := event.NewBus(db, nil)
	seen := &capEvents{changed: make(chan struct{})}
	bus.Subscribe(seen.add)
	storage := filepath.Join(dir, "storage")
	lib := record.NewLibrary(db, bus, storage, nil)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))

	tools := findTools()
	if o.tools != nil {
		tools = *o.tools
	}
	workers := river.NewWorkers()
	conv := record.NewConverter(record.ConverterConfig{KeepTS: true, FFmpegPath: tools.FFmpeg.Path, FFprobePath: tools.FFprobe.Path}, lib, bus, logger)
	require.NoError(t, conv.AddWorkers(workers))
	jobs, err := job.New(job.Config{Workers: workers, FetchPollInterval: 20 * time.Millisecond,
		FetchCooldown: 5 * time.Millisecond, TestOnly: true}, db, bus, logger)
	require.NoError(t, err)
	require.NoError(t, jobs.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(t, jobs.Stop(ctx))
	})

	cfg := record.RecorderConfig{
		MetadataInterval: 200 * time.Millisecond,
		StartJitter:      time.Millisecond,
		RescanInterval:   100 * time.Millisecond,
		RestartBackoff:   []time.Duration{50 * time.Millisecond},
		StopGrace:        5 * time.Second,
		ProbeTimeout:     10 * time.Second,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	rec, err := record.NewRecorder(cfg, lib, bus, jobs, tools, logger)
	require.NoError(t, err)
	cb := &captureBundle{ctx: ctx, db: db, bus: bus, lib: lib, jobs: jobs, rec: rec, storage: storage, seen: seen}
	if !o.noStart {
		cb.start(t)
	}
	return cb
}

// start starts the Recorder; it stops (before the job service) when the
// test ends.
func (cb *captureBundle) start(t *testing.T) {
	t.Helper()
	require.NoError(t, cb.rec.Start(cb.ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(t, cb.rec.Stop(ctx))
	})
}

// addChannel adds a channel recording url with backend (auto when empty).
func (cb *captureBundle) addChannel(t *testing.T, name, url, backend string, enabled bool) dvr.Channel {
	t.Helper()
	ch, err := cb.lib.CreateChannel(cb.ctx, record.ChannelParams{Name: name, URL: url, Backend: backend, Enabled: &enabled})
	require.NoError(t, err)
	return ch
}

// vod reads a VOD back.
func (cb *captureBundle) vod(t *testing.T, id int64) dvr.VOD {
	t.Helper()
	v, err := cb.lib.GetVOD(cb.ctx, id)
	require.NoError(t, err)
	return v
}

// partPath is the path of capture part n of v.
func (cb *captureBundle) partPath(t *testing.T, v dvr.VOD, n int) string {
	t.Helper()
	p, err := record.FilePath(cb.storage, v.ChannelName, v.Basename, record.PartName(v.Basename, n))
	require.NoError(t, err)
	return p
}

// capEvent is a delivered event with its data decoded.
type capEvent struct {
	Seq    int64
	Action event.Action
	Data   map[string]any
}

// vodID is data.vod.id, or 0.
func (e capEvent) vodID() int64 {
	v, _ := e.Data["vod"].(map[string]any)
	id, _ := v["id"].(float64)
	return int64(id)
}

// channelLive is data.channel.is_live of a channel_updated event.
func (e capEvent) channelLive() bool {
	c, _ := e.Data["channel"].(map[string]any)
	live, _ := c["is_live"].(bool)
	return live
}

// decodeVOD decodes data.vod.
func (e capEvent) decodeVOD(t *testing.T) dvr.VOD {
	t.Helper()
	raw, err := json.Marshal(e.Data["vod"])
	require.NoError(t, err)
	var v dvr.VOD
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

func (e capEvent) String() string {
	switch e.Action {
	case event.ActionChannelUpdated:
		return fmt.Sprintf("%s(live=%t)", e.Action, e.channelLive())
	case event.ActionEndCapture, event.ActionEndConvert:
		return fmt.Sprintf("%s(success=%v)", e.Action, e.Data["success"])
	}
	return string(e.Action)
}

// capEvents keeps every event the bus delivers, in seq order, and wakes
// the tests waiting for one.
type capEvents struct {
	mu      sync.Mutex
	events  []capEvent
	changed chan struct{}
}

func (w *capEvents) add(ev *event.Event) {
	var env struct {
		Data map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(ev.Body))
	_ = dec.Decode(&env)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, capEvent{Seq: ev.Seq, Action: ev.Action, Data: env.Data})
	close(w.changed)
	w.changed = make(chan struct{})
}

// all returns the events seen so far.
func (w *capEvents) all() []capEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]capEvent(nil), w.events...)
}

// wait blocks until pred holds for an event and returns the first such
// event; it fails the test after capWait.
func (w *capEvents) wait(t *testing.T, what string, pred func(capEvent) bool) capEvent {
	t.Helper()
	deadline := time.NewTimer(capWait)
	defer deadline.Stop()
	next := 0
	for {
		w.mu.Lock()
		evs := w.events[next:]
		ch := w.changed
		w.mu.Unlock()
		for _, ev := range evs {
			next++
			if pred(ev) {
				return ev
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; saw %v", what, w.all())
		}
	}
}

// waitAction waits for the first event of action about VOD vodID (any VOD
// when 0).
func (w *capEvents) waitAction(t *testing.T, action event.Action, vodID int64) capEvent {
	t.Helper()
	return w.wait(t, fmt.Sprintf("%s of vod %d", action, vodID), func(e capEvent) bool {
		return e.Action == action && (vodID == 0 || e.vodID() == vodID)
	})
}

// count returns how many events match pred.
func (w *capEvents) count(pred func(capEvent) bool) int {
	n := 0
	for _, e := range w.all() {
		if pred(e) {
			n++
		}
	}
	return n
}

// waitFileData waits until path holds at least n bytes. A capture gives no
// event per write, so this polls the file system, briefly.
func waitFileData(t *testing.T, path string, n int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() >= n
	}, capWait, 20*time.Millisecond, "no %d bytes in %s", n, path)
}

// pidWriting finds the capture process writing to path: its command line
// names the output file.
func pidWriting(t *testing.T, path string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range bytes.Split(cmdline, []byte{0}) {
			if string(arg) == path {
				return pid
			}
		}
	}
	t.Fatalf("no process writes %s", path)
	return 0
}
