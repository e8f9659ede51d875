package job

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

func TestMaintenanceJobEmitsTheJobFamilyInOrder(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{config: func(c *Config) { c.EventRetention = time.Hour }})

	// River inserts the periodic job itself at start; its job_save comes
	// when work begins.
	evs := tb.rec.waitFor(t, "prune_events to finish", func(evs []jobEvent) bool {
		return slices.ContainsFunc(evs, func(e jobEvent) bool {
			return e.Job.Kind == PruneEventsName && e.Action == event.ActionJobClear
		})
	})
	i := slices.IndexFunc(evs, func(e jobEvent) bool { return e.Job.Kind == PruneEventsName })
	name := evs[i].Name
	require.Regexp(t, `^maintenance\.prune_events:\d+$`, name)

	logged := logJobEvents(t, tb, name)
	require.Equal(t, []string{"job_save:pending", "job_update:running", "job_update:completed", "job_clear:completed"}, lifecycle(logged))
	for _, e := range logged {
		require.Equal(t, PruneEventsName, e.Job.Kind)
		require.Equal(t, QueueMaintenance, e.Job.Metadata["queue"])
	}

	// RunNow runs it again, announced at insert this time.
	id, err := tb.svc.RunNow(context.Background(), PruneEventsName)
	require.NoError(t, err)
	again := tb.rec.waitCleared(t, PruneEventsName+":"+id)
	require.Equal(t, []string{"job_save:pending", "job_update:running", "job_update:completed", "job_clear:completed"}, lifecycle(again))
}

func TestAddPeriodicRunsAtStartAndOnDemand(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()

	runs := make(chan string, 10)
	require.NoError(t, tb.svc.AddPeriodic("test.tick", time.Hour, func(ctx context.Context) error {
		ReportProgress(ctx, 1, "ticked")
		runs <- "tick"
		return nil
	}))
	require.NoError(t, tb.svc.AddPeriodic("test.broken", time.Hour, func(context.Context) error {
		return errors.New("no luck")
	}))
	tb.start(t)
	require.Equal(t, "tick", waitRecv(t, runs), "runs once at start")

	id, err := tb.svc.RunNow(ctx, "test.tick")
	require.NoError(t, err)
	require.Equal(t, "tick", waitRecv(t, runs))
	evs := tb.rec.waitCleared(t, "test.tick:"+id)
	require.Equal(t, []string{"job_save:pending", "job_update:running", "progress", "job_update:completed", "job_clear:completed"}, lifecycle(evs))
	require.Equal(t, "ticked", evs[2].Text)

	// A failing periodic job is retried like any other job.
	tb.rec.waitFor(t, "test.broken to fail", func(evs []jobEvent) bool {
		return slices.ContainsFunc(evs, func(e jobEvent) bool {
			return e.Job.Kind == "test.broken" && e.Job.State == string(StateRetryable) && e.Job.Error == "no luck"
		})
	})

	// Added after start: runs at once too.
	require.NoError(t, tb.svc.AddPeriodic("test.late", time.Hour, func(context.Context) error {
		runs <- "late"
		return nil
	}))
	require.Equal(t, "late", waitRecv(t, runs))
}

func TestAddPeriodicValidates(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	noop := func(context.Context) error { return nil }

	for _, name := range []string{"", "Prune", "a..b", "a b", ".a", "a."} {
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(tb.svc.AddPeriodic(name, time.Hour, noop)), name)
	}
	require.Equal(t, dvr.EINVALID, dvr.ErrorCode(tb.svc.AddPeriodic("test.zero", 0, noop)))
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(tb.svc.AddPeriodic(PruneEventsName, time.Hour, noop)))

	_, err := tb.svc.RunNow(context.Background(), "test.nothing")
	require.Equal(t, dvr.ENOTFOUND, dvr.ErrorCode(err))
}

func TestPruneEventsKeepsPendingDeliveries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	tb := setup(t, setupOpts{noStart: true, config: func(c *Config) {
		c.EventRetention = 24 * time.Hour
		c.PruneBatch = 2 // several batches
		c.Now = func() time.Time { return now }
	}})
	ctx := context.Background()

	old := now.Add(-48 * time.Hour)
	oldBus := event.NewBus(tb.db, func() time.Time { return old })
	newBus := event.NewBus(tb.db, func() time.Time { return now.Add(-time.Hour) })
	publish := func(bus *event.Bus, text string) int64 {
		ev, err := bus.PublishNow(ctx, event.Alert{Text: text, Level: event.LevelWarning})
		require.NoError(t, err)
		return ev.Seq
	}
	delivered := []int64{publish(oldBus, "old 1"), publish(oldBus, "old 2"), publish(oldBus, "old 3"), publish(oldBus, "old 4"), publish(oldBus, "old 5")}
	pendingSeq := publish(oldBus, "old, receiver down")
	recent := publish(newBus, "recent")

	require.NoError(t, tb.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (url, secret, created_at, updated_at) VALUES ('http://127.0.0.1:1/hook', 'whsec_x', 0, 0)`)
		if err != nil {
			return err
		}
		endpoint, _ := res.LastInsertId()
		for _, seq := range delivered {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, created_at, updated_at) VALUES (?, ?, 'succeeded', 0, 0)`, endpoint, seq); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, 'pending', 0, 0, 0)`, endpoint, pendingSeq)
		return err
	}))

	require.NoError(t, tb.svc.pruneEvents(ctx))

	evs, err := tb.bus.List(ctx, event.ListParams{})
	require.NoError(t, err)
	var left []int64
	for _, ev := range evs {
		left = append(left, ev.Seq)
	}
	require.Equal(t, []int64{pendingSeq, recent}, left)
	var deliveries int
	require.NoError(t, tb.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries`).Scan(&deliveries))
	require.Equal(t, 1, deliveries, "deliveries of pruned events go with them")
}

func TestPruneEventsKeepsEverythingWithoutRetention(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()
	old := event.NewBus(tb.db, func() time.Time { return time.Unix(0, 0) })
	_, err := old.PublishNow(ctx, event.Alert{Text: "ancient", Level: event.LevelWarning})
	require.NoError(t, err)

	require.NoError(t, tb.svc.pruneEvents(ctx))
	last, err := event.LastSeq(ctx, tb.db.Read)
	require.NoError(t, err)
	evs, err := tb.bus.List(ctx, event.ListParams{})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, last, evs[0].Seq)
}
