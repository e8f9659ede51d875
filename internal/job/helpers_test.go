package job

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

const waitTimeout = 15 * time.Second

type testBundle struct {
	db      *store.DB
	bus     *event.Bus
	svc     *Service
	rec     *recorder
	blocker *blockWorker
}

type setupOpts struct {
	config  func(*Config)
	noStart bool
}

// setup opens a fresh database, builds a Service with the test workers and
// starts it (unless noStart). Everything stops at the end of the test.
func setup(t *testing.T, opts setupOpts) *testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	bus := event.NewBus(db, nil)
	rec := newRecorder()
	bus.Subscribe(rec.add)

	workers := river.NewWorkers()
	blocker := &blockWorker{started: make(chan int64, 10), release: make(chan struct{})}
	river.AddWorker(workers, blocker)
	river.AddWorker(workers, &progressWorker{})
	river.AddWorker(workers, &failWorker{})

	cfg := Config{
		Workers:           workers,
		FetchPollInterval: 20 * time.Millisecond,
		FetchCooldown:     5 * time.Millisecond,
		TestOnly:          true,
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	svc, err := New(cfg, db, bus, testLogger(t))
	require.NoError(t, err)
	tb := &testBundle{db: db, bus: bus, svc: svc, rec: rec, blocker: blocker}
	if !opts.noStart {
		tb.start(t)
	}
	return tb
}

func (tb *testBundle) start(t *testing.T) {
	t.Helper()
	require.NoError(t, tb.svc.Start(context.Background()))
	t.Cleanup(func() {
		// Let blocked workers go so the stop is quick.
		tb.blocker.releaseAll()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, tb.svc.Stop(ctx))
	})
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// recorder keeps every event the bus delivers and wakes waiters on each.
type recorder struct {
	mu      sync.Mutex
	events  []*event.Event
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(ev *event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitFor waits until pred holds for the events seen so far.
func (r *recorder) waitFor(t *testing.T, what string, pred func([]jobEvent) bool) []jobEvent {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		evs := slices.Clone(r.events)
		ch := r.changed
		r.mu.Unlock()
		jevs := decodeJobEvents(t, evs)
		if pred(jevs) {
			return jevs
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; job events: %v", what, jevs)
		}
	}
}

// waitCleared waits for the job_clear of job name and returns the events
// of that job, in order.
func (r *recorder) waitCleared(t *testing.T, name string) []jobEvent {
	t.Helper()
	evs := r.waitFor(t, "job_clear of "+name, func(evs []jobEvent) bool {
		return slices.ContainsFunc(evs, func(e jobEvent) bool { return e.Name == name && e.Action == event.ActionJobClear })
	})
	return ofJob(evs, name)
}

// jobEvent is a decoded job_* event.
type jobEvent struct {
	Seq       int64
	Action    event.Action
	Timestamp time.Time
	Name      string
	Job       event.Job
	Progress  float64
	Text      string
}

func (e jobEvent) String() string {
	if e.Action == event.ActionJobProgress {
		return string(e.Action) + "(" + e.Name + ")"
	}
	return string(e.Action) + "(" + e.Name + "," + e.Job.State + ")"
}

func decodeJobEvents(t *testing.T, evs []*event.Event) []jobEvent {
	t.Helper()
	var out []jobEvent
	for _, ev := range evs {
		switch ev.Action {
		case event.ActionJobSave, event.ActionJobUpdate, event.ActionJobClear, event.ActionJobProgress:
		default:
			continue
		}
		var env struct {
			Data struct {
				JobName  string    `json:"job_name"`
				Job      event.Job `json:"job"`
				Progress float64   `json:"progress"`
				Text     string    `json:"text"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(ev.Body, &env))
		out = append(out, jobEvent{
			Seq: ev.Seq, Action: ev.Action, Timestamp: ev.Timestamp, Name: env.Data.JobName,
			Job: env.Data.Job, Progress: env.Data.Progress, Text: env.Data.Text,
		})
	}
	return out
}

func ofJob(evs []jobEvent, name string) []jobEvent {
	var out []jobEvent
	for _, e := range evs {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// lifecycle renders a job's events as "action:state" (progress as
// "progress"), for comparing whole sequences.
func lifecycle(evs []jobEvent) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		if e.Action == event.ActionJobProgress {
			out = append(out, "progress")
			continue
		}
		out = append(out, string(e.Action)+":"+e.Job.State)
	}
	return out
}

// logJobEvents reads the job_* events of name from the event log itself.
func logJobEvents(t *testing.T, tb *testBundle, name string) []jobEvent {
	t.Helper()
	evs, err := tb.bus.List(context.Background(), event.ListParams{Limit: event.MaxListLimit, Actions: []event.Action{
		event.ActionJobSave, event.ActionJobUpdate, event.ActionJobProgress, event.ActionJobClear,
	}})
	require.NoError(t, err)
	return ofJob(decodeJobEvents(t, evs), name)
}

// blockArgs is a job that runs until released or cancelled.
type blockArgs struct{}

func (blockArgs) Kind() string { return "test.block" }

type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	started chan int64
	release chan struct{}
	once    sync.Once
}

func (w *blockWorker) releaseAll() { w.once.Do(func() { close(w.release) }) }

func (w *blockWorker) Work(ctx context.Context, job *river.Job[blockArgs]) error {
	ReportProgress(ctx, 0.5, "halfway")
	w.started <- job.ID
	select {
	case <-w.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// progressArgs reports progress Count times as fast as it can, then 1.
type progressArgs struct {
	Count int `json:"count"`
}

func (progressArgs) Kind() string { return "test.progress" }

type progressWorker struct {
	river.WorkerDefaults[progressArgs]
}

func (w *progressWorker) Work(ctx context.Context, job *river.Job[progressArgs]) error {
	for i := range job.Args.Count {
		ReportProgress(ctx, float64(i)/float64(job.Args.Count), "working")
	}
	ReportProgress(ctx, 1, "done")
	return nil
}

// failArgs fails its first Failures attempts, then succeeds.
type failArgs struct {
	Failures int `json:"failures"`
}

func (failArgs) Kind() string { return "test.fail" }

type failWorker struct {
	river.WorkerDefaults[failArgs]
}

func (w *failWorker) Work(ctx context.Context, job *river.Job[failArgs]) error {
	if job.Attempt <= job.Args.Failures {
		return errors.New("disk on fire")
	}
	return nil
}

// NextRetry retries at once so tests need not wait for the back-off.
func (w *failWorker) NextRetry(job *river.Job[failArgs]) time.Time {
	return time.Now().Add(10 * time.Millisecond)
}
