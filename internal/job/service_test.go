package job

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

func TestInsertTxPublishesSaveInTheSameTransaction(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()

	// A rolled-back state change takes its job and its job_save with it.
	errBoom := dvr.Errorf(dvr.EINVALID, "boom")
	var rolledBack *rivertype.JobRow
	err := tb.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		rolledBack, err = tb.svc.InsertTx(ctx, tx, blockArgs{}, nil)
		require.NoError(t, err)
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	_, err = tb.svc.River().JobGet(ctx, rolledBack.ID)
	require.ErrorIs(t, err, river.ErrNotFound)
	require.Empty(t, logJobEvents(t, tb, riverName("test.block", rolledBack.ID)))
	live, err := tb.svc.List(ctx)
	require.NoError(t, err)
	require.Empty(t, live, "an uncommitted insert is not listed")

	row, err := tb.svc.Insert(ctx, blockArgs{}, nil)
	require.NoError(t, err)
	name := "test.block:" + strconv.FormatInt(row.ID, 10)
	evs := logJobEvents(t, tb, name)
	require.Equal(t, []string{"job_save:pending"}, lifecycle(evs))
	require.Equal(t, "test.block", evs[0].Job.Kind)
	require.Equal(t, strconv.FormatInt(row.ID, 10), evs[0].Job.ID)

	live, err = tb.svc.List(ctx)
	require.NoError(t, err)
	require.Len(t, live, 1)
	require.Equal(t, name, live[0].Name)
	require.Equal(t, string(StatePending), live[0].State)
}

func TestRiverJobLifecycleEvents(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{})
	ctx := context.Background()

	row, err := tb.svc.Insert(ctx, progressArgs{Count: 3}, nil)
	require.NoError(t, err)
	name := riverName("test.progress", row.ID)
	tb.rec.waitCleared(t, name)

	evs := logJobEvents(t, tb, name)
	got := lifecycle(evs)
	require.Equal(t, "job_save:pending", got[0])
	require.Equal(t, "job_update:running", got[1])
	require.Equal(t, []string{"job_update:completed", "job_clear:completed"}, got[len(got)-2:])
	require.Contains(t, got, "progress")
	require.Equal(t, 1, evs[1].Job.Attempt)

	_, ok := tb.live(t, name)
	require.False(t, ok, "a finished job leaves the list")

	require.Eventually(t, func() bool {
		j, ok := tb.finished(t, row.ID)
		return ok && j.State == string(StateCompleted) && j.Kind == "test.progress"
	}, waitTimeout, 10*time.Millisecond)
}

func TestFailedJobReportsErrorAndClears(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{})
	ctx := context.Background()

	row, err := tb.svc.Insert(ctx, failArgs{Failures: 5}, &river.InsertOpts{MaxAttempts: 1})
	require.NoError(t, err)
	name := riverName("test.fail", row.ID)
	evs := tb.rec.waitCleared(t, name)
	require.Equal(t, []string{"job_save:pending", "job_update:running", "job_update:failed", "job_clear:failed"}, lifecycle(evs))
	require.Equal(t, "disk on fire", evs[2].Job.Error)

	require.Eventually(t, func() bool {
		j, ok := tb.finished(t, row.ID)
		return ok && j.State == string(StateFailed) && j.Error == "disk on fire"
	}, waitTimeout, 10*time.Millisecond)
}

func TestRetryableJobStaysListedUntilItSucceeds(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{})
	ctx := context.Background()

	row, err := tb.svc.Insert(ctx, failArgs{Failures: 1}, &river.InsertOpts{MaxAttempts: 3})
	require.NoError(t, err)
	name := riverName("test.fail", row.ID)
	evs := tb.rec.waitCleared(t, name)
	require.Equal(t, []string{
		"job_save:pending",
		"job_update:running", "job_update:retryable",
		"job_update:running", "job_update:completed", "job_clear:completed",
	}, lifecycle(evs))
	require.Equal(t, "disk on fire", evs[2].Job.Error)
	require.Equal(t, 2, evs[3].Job.Attempt)
	require.Empty(t, evs[4].Job.Error)
}

func TestCancelRunningJob(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{})
	ctx := context.Background()

	row, err := tb.svc.Insert(ctx, blockArgs{}, nil)
	require.NoError(t, err)
	id := strconv.FormatInt(row.ID, 10)
	require.Equal(t, row.ID, waitRecv(t, tb.blocker.started))

	live, ok := tb.live(t, riverName("test.block", row.ID))
	require.True(t, ok)
	require.Equal(t, id, live.ID)
	require.Equal(t, string(StateRunning), live.State)
	require.Equal(t, 0.5, live.Progress)
	require.Equal(t, "halfway", live.ProgressText)

	require.NoError(t, tb.svc.Cancel(ctx, id))
	evs := tb.rec.waitCleared(t, riverName("test.block", row.ID))
	require.Equal(t, []string{"job_save:pending", "job_update:running", "progress", "job_update:cancelled", "job_clear:cancelled"}, lifecycle(evs))
	require.NotEmpty(t, evs[3].Job.Error)

	require.Eventually(t, func() bool {
		j, err := tb.svc.River().JobGet(ctx, row.ID)
		return err == nil && j.State == rivertype.JobStateCancelled
	}, waitTimeout, 10*time.Millisecond)

	// Cancelling it again is harmless and says nothing new.
	require.NoError(t, tb.svc.Cancel(ctx, id))
	require.Len(t, logJobEvents(t, tb, riverName("test.block", row.ID)), len(evs))
}

func TestCancelWaitingJob(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()

	row, err := tb.svc.Insert(ctx, blockArgs{}, nil)
	require.NoError(t, err)
	require.NoError(t, tb.svc.Cancel(ctx, strconv.FormatInt(row.ID, 10)))

	evs := logJobEvents(t, tb, riverName("test.block", row.ID))
	require.Equal(t, []string{"job_save:pending", "job_update:cancelled", "job_clear:cancelled"}, lifecycle(evs))
	live, err := tb.svc.List(ctx)
	require.NoError(t, err)
	require.Empty(t, live)
	j, err := tb.svc.River().JobGet(ctx, row.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCancelled, j.State)
}

func TestCancelErrors(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()

	require.Equal(t, dvr.ENOTFOUND, dvr.ErrorCode(tb.svc.Cancel(ctx, "424242")))
	require.Equal(t, dvr.ENOTFOUND, dvr.ErrorCode(tb.svc.Cancel(ctx, "t-01abc")))
	for _, bad := range []string{"", "0", "-3", "abc", "07", "t-", "t-ABC", "42x"} {
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(tb.svc.Cancel(ctx, bad)), bad)
	}

	tr := tb.svc.Track(ctx, "capture:demo", "capture", nil, nil)
	err := tb.svc.Cancel(ctx, tr.ID())
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err), "a job tracked without a cancel func")
}

func TestStopIsGracefulAndIdempotent(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()

	// Stopping a service that never started is fine.
	require.NoError(t, tb.svc.Stop(ctx))

	tb = setup(t, setupOpts{})
	row, err := tb.svc.Insert(ctx, blockArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, row.ID, waitRecv(t, tb.blocker.started))

	stopped := make(chan error, 1)
	go func() { stopped <- tb.svc.Stop(ctx) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a job was still running", err)
	default:
	}
	tb.blocker.releaseAll()
	require.NoError(t, waitRecv(t, stopped))

	// The running job was allowed to finish before Stop returned.
	evs := logJobEvents(t, tb, riverName("test.block", row.ID))
	got := lifecycle(evs)
	require.Equal(t, []string{"job_update:completed", "job_clear:completed"}, got[len(got)-2:])

	require.NoError(t, tb.svc.Stop(ctx), "a second Stop")
}

func TestStopCancelsJobsAtDeadline(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{})
	ctx := context.Background()

	row, err := tb.svc.Insert(ctx, blockArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, row.ID, waitRecv(t, tb.blocker.started))

	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.NoError(t, tb.svc.Stop(sctx))

	// The job was interrupted, not failed: River runs it again next start.
	j, err := tb.svc.River().JobGet(ctx, row.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateAvailable, j.State)
	evs := logJobEvents(t, tb, riverName("test.block", row.ID))
	last := evs[len(evs)-1]
	require.Equal(t, event.ActionJobUpdate, last.Action)
	require.Equal(t, string(StatePending), last.Job.State)
	require.Contains(t, last.Job.Error, "interrupted by shutdown")
	require.NoError(t, tb.svc.Stop(ctx))
}

func TestStartListsJobsLeftWaiting(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()
	row, err := tb.svc.Insert(ctx, blockArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	// A second service on the same database, as after a restart.
	svc2, err := New(Config{Workers: river.NewWorkers(), TestOnly: true}, tb.db, tb.bus, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, svc2.loadWaiting(ctx))
	live, err := svc2.List(ctx)
	require.NoError(t, err)
	require.Len(t, live, 1)
	require.Equal(t, riverName("test.block", row.ID), live[0].Name)
	require.Equal(t, string(StatePending), live[0].State)
}

func TestHistoryValidatesLimit(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	for _, n := range []int{0, -1, MaxHistory + 1} {
		_, err := tb.svc.History(context.Background(), n)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), n)
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]int64{"1": 1, "42": 42, "t-01jf0abc": 0} {
		got, err := ParseID(id)
		require.NoError(t, err, id)
		require.Equal(t, want, got, id)
	}
	for _, bad := range []string{"", "0", "+1", "1.5", "t-", "t-a_b", "T-abc", "99999999999999999999"} {
		_, err := ParseID(bad)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), bad)
	}
}

// live looks the job up in the live list.
func (tb *testBundle) live(t *testing.T, name string) (Live, bool) {
	t.Helper()
	jobs, err := tb.svc.List(context.Background())
	require.NoError(t, err)
	for _, j := range jobs {
		if j.Name == name {
			return j, true
		}
	}
	return Live{}, false
}

// finished looks the job up in History.
func (tb *testBundle) finished(t *testing.T, id int64) (event.Job, bool) {
	t.Helper()
	hist, err := tb.svc.History(context.Background(), MaxHistory)
	require.NoError(t, err)
	for _, j := range hist {
		if j.ID == strconv.FormatInt(id, 10) {
			return j, true
		}
	}
	return event.Job{}, false
}

func waitRecv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting on channel")
		panic("unreachable")
	}
}
