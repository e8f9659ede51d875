package record_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
)

type testBundle struct {
	ctx     context.Context
	db      *store.DB
	bus     *event.Bus
	lib     *record.Library
	storage string
	clock   *testClock
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC)

// setup opens a fresh database; hooks are added to the bus before any
// publish, as the bus requires.
func setup(t testing.TB, hooks ...event.TxHook) *testBundle {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	clock := &testClock{t: t0}
	bus := event.NewBus(db, clock.Now)
	for _, h := range hooks {
		bus.AddTxHook(h)
	}
	storage := filepath.Join(dir, "storage")
	return &testBundle{ctx: ctx, db: db, bus: bus, lib: record.NewLibrary(db, bus, storage, clock.Now), storage: storage, clock: clock}
}

// loggedEvent is an event from the log with its data decoded.
type loggedEvent struct {
	Action event.Action
	Data   map[string]any
}

// events returns the whole event log, oldest first.
func (tb *testBundle) events(t *testing.T) []loggedEvent {
	t.Helper()
	evs, err := event.List(tb.ctx, tb.db.Read, event.ListParams{Limit: event.MaxListLimit})
	require.NoError(t, err)
	out := make([]loggedEvent, len(evs))
	for i, ev := range evs {
		var env struct {
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(ev.Body, &env))
		out[i] = loggedEvent{Action: ev.Action, Data: env.Data}
	}
	return out
}

// actions returns the actions of the event log, oldest first.
func (tb *testBundle) actions(t *testing.T) []event.Action {
	t.Helper()
	var out []event.Action
	for _, ev := range tb.events(t) {
		out = append(out, ev.Action)
	}
	return out
}
