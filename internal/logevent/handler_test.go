package logevent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/logevent"
	"github.com/lsdvr/lsdvr/internal/store"
)

// syncBuffer is a bytes.Buffer safe for the inner handler's concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testBundle struct {
	db      *store.DB
	bus     *event.Bus
	out     *syncBuffer
	handler *logevent.Handler
	logger  *slog.Logger
}

func setup(t *testing.T, cfg logevent.Config) *testBundle {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	tb := &testBundle{db: db, bus: event.NewBus(db, nil), out: &syncBuffer{}}
	if cfg.Inner == nil {
		cfg.Inner = slog.NewTextHandler(tb.out, &slog.HandlerOptions{Level: slog.LevelInfo})
	}
	if cfg.Publisher == nil {
		cfg.Publisher = tb.bus
	}
	tb.handler, err = logevent.New(cfg)
	require.NoError(t, err)
	require.NoError(t, tb.handler.Start(context.Background()))
	t.Cleanup(func() { _ = tb.handler.Stop(context.Background()) })
	tb.logger = slog.New(tb.handler)
	return tb
}

func (tb *testBundle) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, tb.handler.Stop(ctx))
}

// logEvents returns the data of every log event in the event log.
func (tb *testBundle) logEvents(t *testing.T) []event.Log {
	t.Helper()
	var out []event.Log
	var after int64
	for {
		evs, err := event.List(context.Background(), tb.db.Read, event.ListParams{After: after, Limit: event.MaxListLimit, Actions: []event.Action{event.ActionLog}})
		require.NoError(t, err)
		if len(evs) == 0 {
			return out
		}
		for _, ev := range evs {
			var env struct {
				Data event.Log `json:"data"`
			}
			require.NoError(t, json.Unmarshal(ev.Body, &env))
			out = append(out, env.Data)
			after = ev.Seq
		}
	}
}

func TestStormIsRateLimited(t *testing.T) {
	t.Parallel()
	const rate, burst, total = 10.0, 50, 10000
	tb := setup(t, logevent.Config{Rate: rate, Burst: burst, ReportInterval: time.Hour})

	start := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range total / 4 {
				tb.logger.Warn("disk slow", "worker", w, "i", i)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	tb.stop(t)

	var published int
	var suppressed int64
	for _, ev := range tb.logEvents(t) {
		if ev.Message == logevent.SuppressedMessage {
			suppressed += int64(ev.Attrs["suppressed"].(float64))
			require.Equal(t, "WARN", ev.Level)
			continue
		}
		require.Equal(t, "disk slow", ev.Message)
		published++
	}
	require.LessOrEqual(t, float64(published), burst+rate*elapsed.Seconds()+1)
	require.GreaterOrEqual(t, published, burst, "the burst gets through")
	require.Equal(t, int64(total-published), suppressed, "every record left out is counted")
}

func TestSuppressedCountIsReportedWhileRunning(t *testing.T) {
	t.Parallel()
	tb := setup(t, logevent.Config{Rate: 0.001, Burst: 1, ReportInterval: 5 * time.Millisecond})
	got := make(chan event.Log, 16)
	tb.bus.Subscribe(func(ev *event.Event) {
		var env struct {
			Data event.Log `json:"data"`
		}
		if json.Unmarshal(ev.Body, &env) == nil {
			got <- env.Data
		}
	})
	for range 5 {
		tb.logger.Error("boom")
	}
	timeout := time.After(10 * time.Second)
	var msgs []string
	for len(msgs) < 2 {
		select {
		case ev := <-got:
			msgs = append(msgs, ev.Message)
			if ev.Message == logevent.SuppressedMessage {
				require.Equal(t, float64(4), ev.Attrs["suppressed"])
				require.Equal(t, float64(4), ev.Attrs["rate_limited"])
				require.Equal(t, "logevent", ev.Module)
			}
		case <-timeout:
			t.Fatalf("got only %v", msgs)
		}
	}
	require.ElementsMatch(t, []string{"boom", logevent.SuppressedMessage}, msgs)
}

func TestLevelThreshold(t *testing.T) {
	t.Parallel()
	tb := setup(t, logevent.Config{})
	tb.logger.Debug("not shown anywhere")
	tb.logger.Info("stderr only")
	tb.logger.Warn("published warn")
	tb.logger.Error("published error")
	tb.stop(t)

	evs := tb.logEvents(t)
	require.Len(t, evs, 2)
	require.Equal(t, "published warn", evs[0].Message)
	require.Equal(t, "WARN", evs[0].Level)
	require.Equal(t, "published error", evs[1].Message)
	require.Equal(t, "ERROR", evs[1].Level)

	out := tb.out.String()
	require.Contains(t, out, "stderr only")
	require.Contains(t, out, "published warn")
	require.NotContains(t, out, "not shown anywhere")
}

func TestLevelCanChangeWhileRunning(t *testing.T) {
	t.Parallel()
	level := new(slog.LevelVar)
	level.Set(slog.LevelError)
	tb := setup(t, logevent.Config{Level: level})
	tb.logger.Warn("below")
	level.Set(slog.LevelInfo)
	tb.logger.Info("now published")
	tb.stop(t)
	evs := tb.logEvents(t)
	require.Len(t, evs, 1)
	require.Equal(t, "now published", evs[0].Message)
}

func TestPublishedAboveInnerLevel(t *testing.T) {
	t.Parallel()
	// The inner handler shows errors only, yet warnings are still published.
	out := &syncBuffer{}
	tb := setup(t, logevent.Config{Inner: slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelError})})
	tb.logger.Warn("quiet on stderr")
	tb.stop(t)
	require.Len(t, tb.logEvents(t), 1)
	require.Empty(t, out.String())
}

func TestAttrsAndModuleCarried(t *testing.T) {
	t.Parallel()
	tb := setup(t, logevent.Config{})
	when := time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC)

	tb.logger.With("module", "webhook", "endpoint", 7).
		WithGroup("attempt").With("n", 3).
		Warn("delivery failed", "status", 503, "err", errors.New("connection refused"),
			"latency", 1500*time.Millisecond, "at", when, slog.Group("resp", "bytes", 12), "ok", false)
	tb.logger.WithGroup("record").Error("capture stalled", "channel", "alice")
	tb.logger.Warn("with module attr on the record", "module", "media")
	tb.stop(t)

	evs := tb.logEvents(t)
	require.Len(t, evs, 3)
	require.Equal(t, "webhook", evs[0].Module)
	require.Equal(t, "delivery failed", evs[0].Message)
	require.WithinDuration(t, time.Now(), evs[0].Time, time.Minute)
	require.Equal(t, map[string]any{
		"endpoint": float64(7),
		"attempt": map[string]any{
			"n":       float64(3),
			"status":  float64(503),
			"err":     "connection refused",
			"latency": "1.5s",
			"at":      "2026-12-04T19:20:00Z",
			"resp":    map[string]any{"bytes": float64(12)},
			"ok":      false,
		},
	}, evs[0].Attrs)

	require.Equal(t, "record", evs[1].Module, "the outermost group names the module")
	require.Equal(t, map[string]any{"record": map[string]any{"channel": "alice"}}, evs[1].Attrs)
	require.Equal(t, "media", evs[2].Module)
	require.Nil(t, evs[2].Attrs)

	// The inner handler saw the same attrs.
	require.Contains(t, tb.out.String(), "attempt.status=503")
	require.Contains(t, tb.out.String(), "module=webhook")
}

// PublisherFuncs is a fake Publisher.
type PublisherFuncs struct {
	PublishNowFunc func(ctx context.Context, data event.Data) (*event.Event, error)
}

func (p *PublisherFuncs) PublishNow(ctx context.Context, data event.Data) (*event.Event, error) {
	return p.PublishNowFunc(ctx, data)
}

var _ logevent.Publisher = (*PublisherFuncs)(nil)

func TestPublishErrorsGoToInnerOnly(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	var logger *slog.Logger
	pub := &PublisherFuncs{PublishNowFunc: func(ctx context.Context, data event.Data) (*event.Event, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		// Code on the publishing path that logs must not feed the queue.
		logger.ErrorContext(ctx, "store is down")
		return nil, errors.New("database is locked")
	}}
	tb := setup(t, logevent.Config{Publisher: pub})
	logger = tb.logger
	tb.logger.Error("first")
	tb.stop(t)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 1, calls, "the failure was not published again")
	out := tb.out.String()
	require.Contains(t, out, "publish log event")
	require.Contains(t, out, "database is locked")
	require.Contains(t, out, "store is down")
}

func TestLoggingNeverBlocks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	pub := &PublisherFuncs{PublishNowFunc: func(ctx context.Context, data event.Data) (*event.Event, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &event.Event{}, nil
	}}
	tb := setup(t, logevent.Config{Publisher: pub, QueueSize: 4, Rate: 1e6, Burst: 1e6})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10000 {
			tb.logger.Error("while the publisher is stuck")
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("logging blocked on a stuck publisher")
	}
	close(release)
	tb.stop(t)
}

func TestStopGivesUpWhenContextEnds(t *testing.T) {
	t.Parallel()
	pub := &PublisherFuncs{PublishNowFunc: func(ctx context.Context, data event.Data) (*event.Event, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	tb := setup(t, logevent.Config{Publisher: pub, PublishTimeout: time.Hour})
	tb.logger.Error("stuck")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, tb.handler.Stop(ctx), context.Canceled)
	require.NoError(t, tb.handler.Stop(context.Background()), "a second stop is fine")
	tb.logger.Error("after stop goes to stderr only")
	require.Contains(t, tb.out.String(), "after stop goes to stderr only")
}
