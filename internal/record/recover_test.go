package record_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
)

// TestRecoverInterruptedCapture restarts after a crash that left two VODs
// capturing: one with a part on disk becomes an interrupted VOD with its
// MP4, one that recorded nothing becomes failed; both are announced.
func TestRecoverInterruptedCapture(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{jobs: true})
	cut, dir := cb.capturedVOD(t, "alice", 1, true)
	empty, emptyDir := cb.capturedVOD(t, "bob", 0, false)
	// A capture that had opened its first part but written nothing.
	require.NoError(t, os.WriteFile(filepath.Join(emptyDir, empty.Basename+".part001.ts"), nil, 0o644))
	done, _ := cb.capturedVOD(t, "carol", 1, false)
	cb.markConverting(t, done.ID)

	// Recover runs before the job service starts, as at boot.
	require.NoError(t, cb.conv.Recover(cb.ctx, cb.jobs))
	cb.startJobs(t)
	cb.seen.waitVOD(t, event.ActionEndDownload, cut.ID)

	got, err := cb.lib.GetVOD(cb.ctx, cut.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusInterrupted, got.Status)
	require.NotNil(t, got.EndedAt)
	require.InDelta(t, partSeconds, got.DurationSec, 0.1)
	require.Contains(t, got.Files, cut.Basename+".mp4")
	require.FileExists(t, filepath.Join(dir, cut.Basename+".mp4"))
	require.NoFileExists(t, filepath.Join(dir, cut.Basename+".part001.ts"))
	require.Len(t, cb.probe(t, filepath.Join(dir, cut.Basename+".mp4")).Chapters, 2)

	evs := cb.vodEvents(t, cut.ID)
	var alert loggedEvent
	for _, ev := range evs {
		if ev.Action == event.ActionAlert && ev.Data["level"] == event.LevelWarning {
			if text := ev.Data["text"].(string); containsAll(text, "alice", cut.Basename) {
				alert = ev
			}
		}
	}
	require.NotNil(t, alert.Data, "no warning alert naming alice and %s", cut.Basename)
	endCapture := firstOf(t, evs, event.ActionEndCapture)
	require.Equal(t, false, endCapture.Data["success"])
	require.Equal(t, "lsdvr stopped during the capture; the recording is incomplete", endCapture.Data["reason"])
	require.Equal(t, []event.Action{event.ActionEndCapture, event.ActionVODUpdated, event.ActionStartConvert,
		event.ActionEndConvert, event.ActionVODUpdated, event.ActionEndDownload},
		actionsOf(afterFirst(evs, event.ActionEndCapture), event.ActionEndCapture, event.ActionVODUpdated,
			event.ActionStartConvert, event.ActionEndConvert, event.ActionEndDownload))
	require.Equal(t, true, firstOf(t, evs, event.ActionEndConvert).Data["success"])

	gotEmpty, err := cb.lib.GetVOD(cb.ctx, empty.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFailed, gotEmpty.Status)
	require.Contains(t, gotEmpty.Files, empty.Basename+".part001.ts")
	emptyEvs := cb.vodEvents(t, empty.ID)
	require.Equal(t, record.ReasonStoppedBeforeData, firstOf(t, emptyEvs, event.ActionEndCapture).Data["reason"])
	require.Equal(t, []event.Action{event.ActionEndCapture, event.ActionVODUpdated, event.ActionEndDownload},
		actionsOf(afterFirst(emptyEvs, event.ActionEndCapture), event.ActionEndCapture, event.ActionVODUpdated, event.ActionEndDownload, event.ActionStartConvert))
	notify := firstOf(t, afterFirst(emptyEvs, event.ActionEndCapture), event.ActionNotify)
	require.Equal(t, "capture_failed", notify.Data["category"])
	require.Contains(t, notify.Data["body"], empty.Basename)

	// A VOD already converting is not the recovery's business.
	require.Empty(t, actionsOf(cb.vodEvents(t, done.ID), event.ActionEndCapture))

	// A second recovery finds nothing to do.
	cb.seen.waitFor(t, "the conversion job to end", func(a event.Action, data map[string]any) bool {
		name, _ := data["job_name"].(string)
		return a == event.ActionJobClear && strings.HasPrefix(name, record.ConvertKind+":")
	})
	before := len(cb.events(t))
	require.NoError(t, cb.conv.Recover(cb.ctx, cb.jobs))
	require.Len(t, cb.events(t), before)
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// A conversion a person cancelled leaves its VOD converting; the next start
// queues it again, and an interrupted VOD stays interrupted.
func TestRecoverRequeuesCancelledConversion(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{jobs: true})
	v, dir := cb.capturedVOD(t, "dave", 1, false)
	cb.queueConvert(t, v.ID, true)
	res, err := cb.jobs.River().JobList(cb.ctx, river.NewJobListParams().Kinds(record.ConvertKind))
	require.NoError(t, err)
	require.Len(t, res.Jobs, 1)
	require.NoError(t, cb.jobs.Cancel(cb.ctx, strconv.FormatInt(res.Jobs[0].ID, 10)))

	require.NoError(t, cb.conv.Recover(cb.ctx, cb.jobs))
	cb.startJobs(t)
	cb.seen.waitVOD(t, event.ActionEndDownload, v.ID)
	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusInterrupted, got.Status)
	require.FileExists(t, filepath.Join(dir, v.Basename+".mp4"))

	// A second start finds nothing left to queue.
	require.NoError(t, cb.conv.Recover(cb.ctx, cb.jobs))
	res, err = cb.jobs.River().JobList(cb.ctx, river.NewJobListParams().Kinds(record.ConvertKind))
	require.NoError(t, err)
	require.Len(t, res.Jobs, 2, "the cancelled job and the one Recover queued")
}
