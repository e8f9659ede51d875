package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

func TestPruneDeletesOldEventsInBatchesOldestFirst(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	cutoff := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)

	publishAt := func(at time.Time, text string) int64 {
		ev, err := event.NewBus(tb.db, func() time.Time { return at }).PublishNow(ctx, event.Alert{Text: text, Level: event.LevelWarning})
		require.NoError(t, err)
		return ev.Seq
	}
	var old []int64
	for i := range 5 {
		old = append(old, publishAt(cutoff.Add(-time.Duration(5-i)*time.Hour), "old"))
	}
	waiting := publishAt(cutoff.Add(-10*time.Hour), "old, delivery pending")
	atCutoff := publishAt(cutoff, "exactly at the cutoff")
	recent := publishAt(cutoff.Add(time.Hour), "recent")

	require.NoError(t, tb.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (url, secret, created_at, updated_at) VALUES ('http://127.0.0.1:1/', 'whsec_x', 0, 0)`)
		if err != nil {
			return err
		}
		endpoint, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for _, seq := range old {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, created_at, updated_at) VALUES (?, ?, 'succeeded', 0, 0)`, endpoint, seq); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, 'pending', 0, 0, 0)`, endpoint, waiting)
		return err
	}))

	remaining := func() []int64 {
		evs, err := tb.bus.List(ctx, event.ListParams{})
		require.NoError(t, err)
		var seqs []int64
		for _, ev := range evs {
			seqs = append(seqs, ev.Seq)
		}
		return seqs
	}

	n, err := event.Prune(ctx, tb.db.Write, cutoff, 2)
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	require.Equal(t, []int64{old[2], old[3], old[4], waiting, atCutoff, recent}, remaining(), "the oldest go first")

	var counts []int64
	for {
		n, err := event.Prune(ctx, tb.db.Write, cutoff, 2)
		require.NoError(t, err)
		counts = append(counts, n)
		if n < 2 {
			break
		}
	}
	require.Equal(t, []int64{2, 1}, counts)
	require.Equal(t, []int64{waiting, atCutoff, recent}, remaining(), "pending deliveries and newer events stay")

	var deliveries int
	require.NoError(t, tb.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries`).Scan(&deliveries))
	require.Equal(t, 1, deliveries, "deliveries of pruned events are deleted with them")
}

func TestPruneRejectsBadLimit(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	_, err := event.Prune(context.Background(), tb.db.Write, time.Now(), 0)
	require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err))
}
