package record_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/hlstest"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/record"
)

// A capture process that dies mid-stream is restarted into the next part
// while the channel is live, and both parts make the recording.
func TestCaptureRestartsAfterProcessDies(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{record.BackendStreamlink, record.BackendFFmpeg} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 8, Offline: true})
			cb := setupCapture(t, captureOpts{noStart: true, config: func(c *record.RecorderConfig) { c.Prober = streamProber(stream) }})
			cb.addChannel(t, "crashy", stream.URL(), backend, true)
			stream.GoLive()
			cb.start(t)

			start := cb.seen.waitAction(t, event.ActionStartCapture, 0)
			v := start.decodeVOD(t)
			part1 := cb.partPath(t, v, 1)
			// More than a segment, so the part holds whole audio and video
			// frames before its writer is killed mid-stream.
			waitFileData(t, part1, 250_000)
			require.NoError(t, syscall.Kill(pidWriting(t, part1), syscall.SIGKILL))

			end := cb.seen.waitAction(t, event.ActionEndCapture, v.ID)
			require.Equal(t, true, end.Data["success"], "a dropped capture is not a failed one: %v", end.Data["reason"])
			ended := end.decodeVOD(t)
			require.Contains(t, ended.Files, record.PartName(v.Basename, 1))
			require.Contains(t, ended.Files, record.PartName(v.Basename, 2))
			p1, err := os.Stat(part1)
			require.NoError(t, err)
			require.Positive(t, p1.Size())
			p2, err := os.Stat(cb.partPath(t, v, 2))
			require.NoError(t, err)
			require.Positive(t, p2.Size())

			// Both parts are joined into one complete MP4, despite the
			// killed part's cut-off last packet.
			cb.seen.waitAction(t, event.ActionStartConvert, v.ID)
			cb.seen.waitAction(t, event.ActionEndDownload, v.ID)
			got := cb.vod(t, v.ID)
			require.Equal(t, record.StatusFinalized, got.Status)
			require.Contains(t, got.Files, v.Basename+".mp4")
			require.Equal(t, 1, cb.seen.count(func(e capEvent) bool { return e.Action == event.ActionStartCapture }),
				"a restart continues the same capture")
		})
	}
}

// When free space falls below the minimum mid-capture, the capture stops
// cleanly with a critical alert; what was recorded is kept and converted.
func TestCaptureStopsWhenDiskIsFull(t *testing.T) {
	t.Parallel()
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 20, Offline: true})
	var full atomic.Bool
	cb := setupCapture(t, captureOpts{noStart: true, config: func(c *record.RecorderConfig) {
		c.Prober = streamProber(stream)
		c.MinFreeBytes = 1 << 40
		c.FreeBytesFunc = func(string) (uint64, error) {
			if full.Load() {
				return 1 << 20, nil
			}
			return 1 << 50, nil
		}
	}})
	cb.addChannel(t, "big", stream.URL(), record.BackendFFmpeg, true)
	stream.GoLive()
	cb.start(t)

	v := cb.seen.waitAction(t, event.ActionStartCapture, 0).decodeVOD(t)
	part1 := cb.partPath(t, v, 1)
	waitFileData(t, part1, 1)
	full.Store(true)

	end := cb.seen.waitAction(t, event.ActionEndCapture, v.ID)
	require.Equal(t, false, end.Data["success"])
	require.Equal(t, "disk full", end.Data["reason"])
	alert := cb.seen.waitAction(t, event.ActionAlert, 0)
	require.Less(t, alert.Seq, end.Seq)
	require.Equal(t, event.LevelCritical, alert.Data["level"])
	require.True(t, strings.HasPrefix(alert.Data["text"].(string), "disk full"), alert.Data["text"])
	require.False(t, stream.Ended(), "the capture stopped before the broadcast ended")

	require.Contains(t, end.decodeVOD(t).Files, record.PartName(v.Basename, 1))
	cb.seen.waitAction(t, event.ActionEndDownload, v.ID)
	fi, err := os.Stat(part1)
	require.NoError(t, err, "the part is kept")
	require.Positive(t, fi.Size())
	got := cb.vod(t, v.ID)
	require.Equal(t, record.StatusFinalized, got.Status, "what was recorded is converted")
	require.Contains(t, got.Files, v.Basename+".mp4")
}

// With too little space from the start (the real free space of the test
// machine, under a huge minimum), a live channel is not recorded and the
// operator is alerted.
func TestRecorderDoesNotStartOnFullDisk(t *testing.T) {
	t.Parallel()
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 4, Offline: true})
	cb := setupCapture(t, captureOpts{noStart: true, config: func(c *record.RecorderConfig) {
		c.MinFreeBytes = 1 << 62
		c.Prober = streamProber(stream)
	}})
	ch := cb.addChannel(t, "full", stream.URL(), "", true)
	stream.GoLive()
	cb.start(t)

	alert := cb.seen.waitAction(t, event.ActionAlert, 0)
	require.Equal(t, event.LevelCritical, alert.Data["level"])
	require.Contains(t, alert.Data["text"], "channel full is live but is not recorded")
	c, err := cb.lib.GetChannel(cb.ctx, ch.ID)
	require.NoError(t, err)
	require.True(t, c.IsLive, "the channel is known live even though it is not recorded")
	_, recording := cb.rec.Recording(ch.ID)
	require.False(t, recording)
	_, err = cb.rec.RecordNow(cb.ctx, ch.ID)
	require.Equal(t, dvr.EUNAVAILABLE, dvr.ErrorCode(err))
	require.ErrorContains(t, err, "disk full")
	require.Zero(t, cb.seen.count(func(e capEvent) bool { return e.Action == event.ActionStartDownload }))
}

// Stopping lsdvr stops the capture but does not finish it: the VOD stays
// capturing with its part, for recovery at the next start.
func TestRecorderStopLeavesCaptureForRecovery(t *testing.T) {
	t.Parallel()
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 20, Offline: true})
	cb := setupCapture(t, captureOpts{noStart: true, config: func(c *record.RecorderConfig) { c.Prober = streamProber(stream) }})
	// ffmpeg ends its output cleanly on SIGTERM, so the interrupted part
	// converts whatever the moment of the stop.
	cb.addChannel(t, "stopped", stream.URL(), record.BackendFFmpeg, true)
	stream.GoLive()
	cb.start(t)

	v := cb.seen.waitAction(t, event.ActionStartCapture, 0).decodeVOD(t)
	part1 := cb.partPath(t, v, 1)
	waitFileData(t, part1, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, cb.rec.Stop(ctx))
	require.NoError(t, cb.rec.Stop(ctx), "a second stop is harmless")

	got := cb.vod(t, v.ID)
	require.Equal(t, record.StatusCapturing, got.Status)
	require.Contains(t, got.Files, record.PartName(v.Basename, 1))
	require.Zero(t, cb.seen.count(func(e capEvent) bool { return e.Action == event.ActionEndCapture }))
	cleared := cb.seen.wait(t, "capture job cleared", func(e capEvent) bool {
		return e.Action == event.ActionJobClear && e.Data["job_name"] == "capture:stopped"
	})
	job, _ := cleared.Data["job"].(map[string]any)
	require.Equal(t, "cancelled", job["state"])

	// Recovery at the next start converts it as interrupted.
	conv := record.NewConverter(record.ConverterConfig{KeepTS: true}, cb.lib, cb.bus, nil)
	require.NoError(t, conv.Recover(cb.ctx, cb.jobs))
	cb.seen.waitAction(t, event.ActionEndDownload, v.ID)
	require.Equal(t, record.StatusInterrupted, cb.vod(t, v.ID).Status)
}

// A capture whose process cannot record anything, while the channel still
// looks live, is given up after MaxFailedParts tries: end_capture says why,
// and the VOD fails without a conversion.
func TestCaptureGivesUpWhenProcessKeepsFailing(t *testing.T) {
	t.Parallel()
	base := servePlaylists(t, map[string]func(http.ResponseWriter){"/live.m3u8": answerWith(http.StatusForbidden, "no")})
	cb := setupCapture(t, captureOpts{config: func(c *record.RecorderConfig) {
		c.MaxFailedParts = 2
		c.Prober = record.ProberFunc(func(context.Context, dvr.Channel) (media.StreamInfo, error) {
			return media.StreamInfo{Live: true, Title: "Forbidden"}, nil
		})
	}})
	cb.addChannel(t, "broken", base+"/live.m3u8", record.BackendFFmpeg, true)

	v := cb.seen.waitAction(t, event.ActionStartCapture, 0).decodeVOD(t)
	end := cb.seen.waitAction(t, event.ActionEndCapture, v.ID)
	require.Equal(t, false, end.Data["success"])
	reason := end.Data["reason"].(string)
	require.True(t, strings.HasPrefix(reason, "capture kept failing: ffmpeg exited with code"), reason)
	require.Contains(t, reason, "403")
	done := cb.seen.waitAction(t, event.ActionEndDownload, v.ID)
	require.Equal(t, record.StatusFailed, done.decodeVOD(t).Status)
	got := cb.vod(t, v.ID)
	require.Equal(t, record.StatusFailed, got.Status)
	require.Equal(t, []string{record.CaptureLogName}, got.Files, "empty parts are not kept")
	require.Zero(t, cb.seen.count(func(e capEvent) bool { return e.Action == event.ActionStartConvert }))
	notice := cb.seen.wait(t, "a person is told", func(e capEvent) bool {
		return e.Action == event.ActionNotify && e.Data["category"] == "capture_failed"
	})
	require.Equal(t, "broken: recording failed", notice.Data["title"])
	require.Contains(t, notice.Data["body"], "capture kept failing")
	cleared := cb.seen.wait(t, "capture job cleared", func(e capEvent) bool {
		return e.Action == event.ActionJobClear && e.Data["job_name"] == "capture:broken"
	})
	job, _ := cleared.Data["job"].(map[string]any)
	require.Equal(t, "failed", job["state"])
	require.Contains(t, job["error"], "capture kept failing")
}

// Cancelling the capture job ends the capture early; what was recorded is
// converted, and the job reads as cancelled.
func TestCaptureCancelledThroughJobs(t *testing.T) {
	t.Parallel()
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 20, Offline: true})
	cb := setupCapture(t, captureOpts{noStart: true, config: func(c *record.RecorderConfig) { c.Prober = streamProber(stream) }})
	cb.addChannel(t, "enough", stream.URL(), record.BackendFFmpeg, true)
	stream.GoLive()
	cb.start(t)

	saved := cb.seen.wait(t, "capture job", func(e capEvent) bool {
		return e.Action == event.ActionJobSave && e.Data["job_name"] == "capture:enough"
	})
	job, _ := saved.Data["job"].(map[string]any)
	require.Equal(t, "capture", job["kind"])
	meta, _ := job["metadata"].(map[string]any)
	vodID := int64(meta["vod_id"].(float64))
	v := cb.vod(t, vodID)
	waitFileData(t, cb.partPath(t, v, 1), 1)
	require.NoError(t, cb.jobs.Cancel(cb.ctx, job["id"].(string)))

	end := cb.seen.waitAction(t, event.ActionEndCapture, vodID)
	require.Equal(t, true, end.Data["success"])
	require.Equal(t, "capture cancelled", end.Data["reason"])
	require.False(t, stream.Ended())
	cleared := cb.seen.wait(t, "capture job cleared", func(e capEvent) bool {
		return e.Action == event.ActionJobClear && e.Data["job_name"] == "capture:enough"
	})
	clearedJob, _ := cleared.Data["job"].(map[string]any)
	require.Equal(t, "cancelled", clearedJob["state"])
	cb.seen.waitAction(t, event.ActionEndDownload, vodID)
	require.Equal(t, record.StatusFinalized, cb.vod(t, vodID).Status)
}
