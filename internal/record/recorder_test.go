package record_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/hlstest"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/record"
)

// streamProber probes the test stream's playlist for real and reads its
// title and category, as a platform's metadata would give them.
func streamProber(stream *hlstest.Stream) record.Prober {
	playlist := &record.PlaylistProber{}
	return record.ProberFunc(func(ctx context.Context, ch dvr.Channel) (media.StreamInfo, error) {
		info, err := playlist.Probe(ctx, ch)
		info.Title, info.Category = stream.Title(), stream.Category()
		return info, err
	})
}

// step is one expected event of a broadcast.
type step struct {
	name string
	ok   func(capEvent) bool
}

// requireOrder checks that steps happen in order among evs (other events
// may come between them).
func requireOrder(t *testing.T, evs []capEvent, steps []step) {
	t.Helper()
	i := 0
	for _, e := range evs {
		if i < len(steps) && steps[i].ok(e) {
			i++
		}
	}
	if i < len(steps) {
		t.Fatalf("events out of order: %s missing after %d steps; events: %v", steps[i].name, i, evs)
	}
}

// broadcastSteps are the events of one recorded broadcast, in the order
// the product documents.
func broadcastSteps(channel string, vodID int64) []step {
	ofVOD := func(a event.Action) func(capEvent) bool {
		return func(e capEvent) bool { return e.Action == a && e.vodID() == vodID }
	}
	return []step{
		{"channel_updated(live)", func(e capEvent) bool { return e.Action == event.ActionChannelUpdated && e.channelLive() }},
		{"notify(live)", func(e capEvent) bool {
			return e.Action == event.ActionNotify && e.Data["category"] == "live" && e.Data["title"] == channel+" is live"
		}},
		{"start_download", ofVOD(event.ActionStartDownload)},
		{"start_capture", ofVOD(event.ActionStartCapture)},
		{"chapter_update", ofVOD(event.ActionChapterUpdate)},
		{"job_save(capture)", func(e capEvent) bool {
			return e.Action == event.ActionJobSave && e.Data["job_name"] == "capture:"+channel
		}},
		{"job_clear(capture)", func(e capEvent) bool {
			return e.Action == event.ActionJobClear && e.Data["job_name"] == "capture:"+channel
		}},
		{"end_capture(success)", func(e capEvent) bool {
			return e.Action == event.ActionEndCapture && e.vodID() == vodID && e.Data["success"] == true
		}},
		{"start_convert", ofVOD(event.ActionStartConvert)},
		{"end_convert(success)", func(e capEvent) bool {
			return e.Action == event.ActionEndConvert && e.vodID() == vodID && e.Data["success"] == true
		}},
		{"vod_updated(finalized)", func(e capEvent) bool {
			v, _ := e.Data["vod"].(map[string]any)
			return e.Action == event.ActionVODUpdated && e.vodID() == vodID && v["status"] == record.StatusFinalized
		}},
		{"end_download", ofVOD(event.ActionEndDownload)},
	}
}

// A channel live when the recorder starts is detected at the first poll,
// captured to the end of the broadcast, and converted, with every event in
// order, whichever tool captures.
func TestRecorderRecordsLiveChannel(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{record.BackendStreamlink, record.BackendFFmpeg} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 6, Title: "Speedrun", Category: "Tetris", Offline: true})
			cb := setupCapture(t, captureOpts{noStart: true, config: func(c *record.RecorderConfig) { c.Prober = streamProber(stream) }})
			ch := cb.addChannel(t, "demo", stream.URL(), backend, true)
			stream.GoLive()
			cb.start(t)

			end := cb.seen.waitAction(t, event.ActionEndDownload, 0)
			vodID := end.vodID()
			evs := cb.seen.all()
			requireOrder(t, evs, broadcastSteps(ch.Name, vodID))

			// The channel goes offline once the capture has ended.
			endCapture := cb.seen.waitAction(t, event.ActionEndCapture, vodID)
			offline := cb.seen.wait(t, "channel offline", func(e capEvent) bool {
				return e.Action == event.ActionChannelUpdated && !e.channelLive() && e.Seq > endCapture.Seq
			})
			require.Less(t, offline.Seq, end.Seq+100, "offline is published once the capture ends")
			require.Equal(t, "stream ended", endCapture.Data["reason"])

			v := cb.vod(t, vodID)
			require.Equal(t, record.StatusFinalized, v.Status)
			require.Equal(t, "Speedrun", v.Title)
			require.Len(t, v.Chapters, 1)
			require.Equal(t, "Speedrun", v.Chapters[0].Title)
			require.Equal(t, "Tetris", v.Chapters[0].Category)
			require.Greater(t, v.DurationSec, 1.0)
			require.Contains(t, v.Files, v.Basename+".mp4")
			require.Contains(t, v.Files, record.PartName(v.Basename, 1))
			require.Contains(t, v.Files, record.CaptureLogName)

			dir, err := record.VODDir(cb.storage, v.ChannelName, v.Basename)
			require.NoError(t, err)
			fi, err := os.Stat(filepath.Join(dir, v.Basename+".mp4"))
			require.NoError(t, err)
			require.Positive(t, fi.Size())
			log, err := os.ReadFile(filepath.Join(dir, record.CaptureLogName))
			require.NoError(t, err)
			require.Contains(t, string(log), backend, "the capture log names the tool that ran")

			// The capture reports what it wrote, as the job's progress.
			progress := cb.seen.wait(t, "capture progress", func(e capEvent) bool {
				return e.Action == event.ActionJobProgress && e.Data["job_name"] == "capture:"+ch.Name
			})
			require.Regexp(t, `^\d+(\.\d)? [kMG]?B`, progress.Data["text"])
			require.Less(t, progress.Seq, endCapture.Seq)

			c, err := cb.lib.GetChannel(cb.ctx, ch.ID)
			require.NoError(t, err)
			require.False(t, c.IsLive)
			require.Equal(t, "Speedrun", c.Title)
			require.Equal(t, 1, cb.seen.count(func(e capEvent) bool { return e.Action == event.ActionStartDownload }),
				"one broadcast is one recording")
		})
	}
}

// A title change during the capture starts a second chapter, at its offset.
func TestRecorderChapterOnTitleChange(t *testing.T) {
	t.Parallel()
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 7, Title: "Warm-up", Category: "Chess", Offline: true})
	cb := setupCapture(t, captureOpts{noStart: true, config: func(c *record.RecorderConfig) { c.Prober = streamProber(stream) }})
	ch := cb.addChannel(t, "chess", stream.URL(), record.BackendFFmpeg, true)
	stream.GoLive()
	cb.start(t)

	first := cb.seen.waitAction(t, event.ActionChapterUpdate, 0)
	vodID := first.vodID()
	stream.SetTitle("Main event")
	second := cb.seen.wait(t, "second chapter", func(e capEvent) bool {
		return e.Action == event.ActionChapterUpdate && e.Seq > first.Seq
	})
	chapter, _ := second.Data["chapter"].(map[string]any)
	require.Equal(t, "Main event", chapter["title"])
	require.Equal(t, "Chess", chapter["category"])
	require.EqualValues(t, 1, chapter["index"])
	require.Positive(t, chapter["offset_sec"])
	cb.seen.waitAction(t, event.ActionEndDownload, vodID)

	v := cb.vod(t, vodID)
	require.Len(t, v.Chapters, 2)
	require.Equal(t, "Warm-up", v.Chapters[0].Title)
	require.Zero(t, v.Chapters[0].OffsetSec)
	require.Equal(t, "Main event", v.Chapters[1].Title)
	require.Greater(t, v.Chapters[1].OffsetSec, 0.0)
	require.Equal(t, 2, cb.seen.count(func(e capEvent) bool { return e.Action == event.ActionChapterUpdate }))
	c, err := cb.lib.GetChannel(cb.ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, "Main event", c.Title, "the channel follows the title")
}
