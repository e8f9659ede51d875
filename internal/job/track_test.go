package job

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
)

func TestTrackedJobLifecycle(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	ctx := context.Background()

	captureCtx, stopCapture := context.WithCancel(ctx)
	defer stopCapture()
	tr := tb.svc.Track(ctx, "capture:demo", "capture", map[string]any{"channel": "demo"}, stopCapture)
	require.True(t, strings.HasPrefix(tr.ID(), "t-"), tr.ID())
	_, err := ParseID(tr.ID())
	require.NoError(t, err, "tracked ids pass the API's validation")
	require.Equal(t, "capture:demo", tr.Name())

	tr.Update(StateRunning, nil)
	// Progress as a capture reports it: many times, fast; clamped to 0..1.
	for i := range 1000 {
		tr.Progress(float64(i)/100, "segments")
	}
	ReportProgress(tr.Context(ctx), 0.99, "99 segments")

	live, ok := tb.live(t, "capture:demo")
	require.True(t, ok)
	require.Equal(t, tr.ID(), live.ID)
	require.Equal(t, "capture", live.Kind)
	require.Equal(t, string(StateRunning), live.State)
	require.Equal(t, 0.99, live.Progress)
	require.Equal(t, "99 segments", live.ProgressText)
	require.Equal(t, "demo", live.Metadata["channel"])

	// Cancel reaches the capture through the function given to Track.
	require.NoError(t, tb.svc.Cancel(ctx, tr.ID()))
	<-captureCtx.Done()
	tr.Update(StateCancelled, errors.New("stopped by user"))
	tr.Clear()
	tr.Clear()
	tr.Progress(1, "too late")

	_, ok = tb.live(t, "capture:demo")
	require.False(t, ok)
	evs := logJobEvents(t, tb, "capture:demo")
	require.Equal(t, []string{
		"job_save:pending", "job_update:running", "progress", "progress",
		"job_update:cancelled", "job_clear:cancelled",
	}, lifecycle(evs))
	require.Equal(t, "stopped by user", evs[4].Job.Error)
	require.Equal(t, 0.99, evs[3].Progress, "the latest progress is flushed before the update")
	require.Equal(t, "99 segments", evs[3].Text)
	for _, e := range evs {
		if e.Action != event.ActionJobProgress {
			require.Equal(t, tr.ID(), e.Job.ID)
		}
	}
}

func TestTrackedUpdateRejectsUnknownState(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{noStart: true})
	tr := tb.svc.Track(context.Background(), "download:x", "download", nil, nil)
	tr.Update(State("exploded"), nil)
	live, ok := tb.live(t, "download:x")
	require.True(t, ok)
	require.Equal(t, string(StatePending), live.State)
	require.Equal(t, []string{"job_save:pending"}, lifecycle(logJobEvents(t, tb, "download:x")))
}
