package event_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

type testBundle struct {
	db  *store.DB
	bus *event.Bus
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	fixed := time.Date(2026, 12, 4, 19, 20, 0, 123456789, time.UTC)
	return &testBundle{db: db, bus: event.NewBus(db, func() time.Time { return fixed })}
}

func TestPublishWritesEnvelope(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()

	ev, err := tb.bus.PublishNow(ctx, event.Alert{Text: "disk almost full", Level: event.LevelWarning})
	require.NoError(t, err)
	require.Equal(t, int64(1), ev.Seq)
	require.Regexp(t, `^evt_[0-9A-HJKMNP-TV-Z]{26}$`, ev.ID)

	var env map[string]any
	require.NoError(t, json.Unmarshal(ev.Body, &env))
	require.Equal(t, map[string]any{
		"id": ev.ID, "seq": float64(1), "action": "alert",
		"timestamp": "2026-12-04T19:20:00.123Z",
		"data":      map[string]any{"text": "disk almost full", "level": "warning"},
	}, env)

	got, err := event.List(ctx, tb.db.Read, event.ListParams{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, ev.Body, got[0].Body, "the log keeps the exact bytes consumers receive")
}

func TestPublishRolledBackIsNeverSeen(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	seen := make(chan *event.Event, 10)
	tb.bus.Subscribe(func(ev *event.Event) { seen <- ev })

	boom := errors.New("state change failed")
	err := tb.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tb.bus.Publish(ctx, tx, event.Notify{Title: "never", Category: "test"})
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)

	_, err = tb.bus.PublishNow(ctx, event.Notify{Title: "kept", Category: "test"})
	require.NoError(t, err)
	ev := <-seen
	require.Contains(t, string(ev.Body), `"title":"kept"`)
	require.Empty(t, seen)

	got, err := event.List(ctx, tb.db.Read, event.ListParams{})
	require.NoError(t, err)
	require.Len(t, got, 1)
}

func TestTxHookFailureRollsBack(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	tb.bus.AddTxHook(event.TxHookFunc(func(ctx context.Context, tx *store.Tx, ev *event.Event) error {
		return errors.New("no delivery rows")
	}))
	_, err := tb.bus.PublishNow(ctx, event.Notify{Title: "x", Category: "test"})
	require.ErrorContains(t, err, "publish notify: no delivery rows")
	last, err := event.LastSeq(ctx, tb.db.Read)
	require.NoError(t, err)
	require.Zero(t, last)
}

func TestSubscribersSeeCommitOrder(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	const n = 400
	var (
		mu   sync.Mutex
		seqs []int64
	)
	done := make(chan struct{})
	tb.bus.Subscribe(func(ev *event.Event) {
		mu.Lock()
		defer mu.Unlock()
		seqs = append(seqs, ev.Seq)
		if len(seqs) == n {
			close(done)
		}
	})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/8; i++ {
				_, err := tb.bus.PublishNow(ctx, event.Notify{Title: "burst", Category: "test"})
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("subscriber did not see every event")
	}
	for i, s := range seqs {
		require.Equal(t, int64(i+1), s, "subscribers must see events in seq order")
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	for _, d := range []event.Data{
		event.Notify{Title: "a", Category: "test"},
		event.Alert{Text: "b", Level: event.LevelError},
		event.Notify{Title: "c", Category: "test"},
	} {
		_, err := tb.bus.PublishNow(ctx, d)
		require.NoError(t, err)
	}
	got, err := event.List(ctx, tb.db.Read, event.ListParams{After: 1, Actions: []event.Action{event.ActionNotify}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(3), got[0].Seq)

	_, err = event.List(ctx, tb.db.Read, event.ListParams{Actions: []event.Action{"nope"}})
	require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err))
	require.ErrorContains(t, err, `unknown action "nope"`)
	_, err = event.List(ctx, tb.db.Read, event.ListParams{Limit: 5000})
	require.ErrorContains(t, err, "limit must be between 1 and 1000")

	_, err = event.Get(ctx, tb.db.Read, 99)
	require.True(t, dvr.IsNotFound(err))
}

// The body is written around the seq in SQL; it must be byte for byte what
// encoding/json makes of the envelope, escapes included.
func TestBodyIsTheMarshalledEnvelope(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	data := event.Notify{Title: `<b>"Ünïcode" & co</b>`, Body: "line\nbreak \u2028", Category: "test"}
	for range 3 {
		ev, err := tb.bus.PublishNow(ctx, data)
		require.NoError(t, err)
		payload, err := json.Marshal(data)
		require.NoError(t, err)
		want, err := json.Marshal(event.Envelope{ID: ev.ID, Seq: ev.Seq, Action: ev.Action,
			Timestamp: ev.Timestamp.Format(event.TimestampFormat), Data: payload})
		require.NoError(t, err)
		require.Equal(t, string(want), string(ev.Body))
		stored, err := event.Get(ctx, tb.db.Read, ev.Seq)
		require.NoError(t, err)
		require.Equal(t, string(want), string(stored.Body))
	}
}

// A seq is never reused, even once the events holding it are deleted.
func TestSeqIsNeverReused(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	for range 3 {
		_, err := tb.bus.PublishNow(ctx, event.Notify{Title: "x", Category: "test"})
		require.NoError(t, err)
	}
	require.NoError(t, tb.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM events`)
		return err
	}))
	ev, err := tb.bus.PublishNow(ctx, event.Notify{Title: "after", Category: "test"})
	require.NoError(t, err)
	require.Equal(t, int64(4), ev.Seq)
	require.Contains(t, string(ev.Body), `"seq":4,`)
}
