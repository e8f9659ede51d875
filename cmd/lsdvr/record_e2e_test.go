package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/hlstest"
	"github.com/lsdvr/lsdvr/internal/media"
)

// TestRecordLiveChannelAtStart is the DVR's promise end to end: a channel
// that is live when lsdvr starts is detected, captured, converted to an MP4
// with chapters, and every step arrives over the websocket in order. It
// runs once per capture backend.
func TestRecordLiveChannelAtStart(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"streamlink", "ffmpeg"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 8, Window: 10, Offline: true, Title: "Opening", Category: "Just Chatting"})
			dir := t.TempDir()

			// Add the channel while it is offline, then stop lsdvr.
			srv := startServer(t, dir)
			_, err := runCLI(t, srv, "channel", "add", stream.URL(), "--name", "demo", "--backend", backend)
			require.NoError(t, err)
			srv.Terminate(t, 20*time.Second)

			// The channel goes live; lsdvr starts and records it.
			stream.GoLive()
			srv = startServer(t, dir)
			envs, _ := tail(t, srv)
			want := []event.Action{
				event.ActionChannelUpdated, event.ActionNotify, event.ActionStartDownload,
				event.ActionStartCapture, event.ActionChapterUpdate, event.ActionEndCapture,
				event.ActionStartConvert, event.ActionEndConvert, event.ActionVODUpdated, event.ActionEndDownload,
			}
			var got []event.Envelope
			deadline := time.After(3 * time.Minute)
			for len(got) < len(want) {
				select {
				case env := <-envs:
					if env.Action == want[len(got)] && isRecordingStep(t, env) {
						got = append(got, env)
					}
				case <-deadline:
					t.Fatalf("after %d of %d recording events, no %s within 3m", len(got), len(want), want[len(got)])
				}
			}
			var endCapture, endConvert event.Outcome
			require.NoError(t, json.Unmarshal(got[5].Data, &endCapture))
			require.True(t, endCapture.Success, endCapture.Reason)
			require.NoError(t, json.Unmarshal(got[7].Data, &endConvert))
			require.True(t, endConvert.Success, endConvert.Reason)

			// The library shows one finalized VOD with an MP4 and its chapter.
			var page struct {
				Items []dvr.VOD `json:"items"`
			}
			require.NoError(t, srv.Client.Do(context.Background(), "GET", "/api/v1/vods", nil, &page))
			require.Len(t, page.Items, 1)
			vod := page.Items[0]
			require.Equal(t, "finalized", vod.Status)
			require.Len(t, vod.Chapters, 1, "a plain HLS stream has one chapter: no metadata changes it")
			mp4 := filepath.Join(dir, "storage", "demo", vod.Basename, vod.Basename+".mp4")
			require.Contains(t, vod.Files, vod.Basename+".mp4")

			out, err := exec.Command("ffprobe", media.FFprobeArgs(mp4)...).Output()
			require.NoError(t, err)
			probe, err := media.ParseFFprobe(out)
			require.NoError(t, err)
			served := stream.Duration()
			require.InEpsilon(t, served.Seconds(), probe.Duration.Seconds(), 0.10,
				"recorded %s of a %s stream", probe.Duration, served)
			require.Len(t, probe.Chapters, 1)
			require.FileExists(t, filepath.Join(dir, "storage", "demo", vod.Basename, vod.Basename+".info.json"))
			matches, err := filepath.Glob(filepath.Join(dir, "storage", "demo", vod.Basename, "*.ts"))
			require.NoError(t, err)
			require.Empty(t, matches, "the .ts parts are deleted once the MP4 is verified")
		})
	}
}

// isRecordingStep keeps the events of the recording itself: the live
// channel_updated (not the offline one) and the "live" notify.
func isRecordingStep(t *testing.T, env event.Envelope) bool {
	t.Helper()
	switch env.Action {
	case event.ActionChannelUpdated:
		var d event.ChannelUpdated
		require.NoError(t, json.Unmarshal(env.Data, &d))
		return d.Channel.IsLive
	case event.ActionNotify:
		var d event.Notify
		require.NoError(t, json.Unmarshal(env.Data, &d))
		return d.Category == "live"
	}
	return true
}

// TestRecoverAfterSIGKILLMidCapture kills lsdvr while it records; on the
// next start the recording is converted from what was captured, marked
// interrupted, and an alert and a failed end_capture say why.
func TestRecoverAfterSIGKILLMidCapture(t *testing.T) {
	t.Parallel()
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 30, Window: 40, Offline: true})
	dir := t.TempDir()
	srv := startServer(t, dir)
	_, err := runCLI(t, srv, "channel", "add", stream.URL(), "--name", "demo")
	require.NoError(t, err)
	envs, _ := tail(t, srv)
	stream.GoLive()
	_, err = runCLI(t, srv, "channel", "record", "demo")
	require.NoError(t, err)
	await(t, envs, event.ActionStartCapture, nil)
	// A few seconds of the broadcast are on disk after three progress
	// reports (they are at most one a second).
	for range 3 {
		await(t, envs, event.ActionJobProgress, nil)
	}
	srv.Kill()

	// The broadcast ends while lsdvr is down.
	stream.End()
	srv = startServer(t, dir)
	envs, _ = tail(t, srv)
	alert := await(t, envs, event.ActionAlert, nil)
	require.Contains(t, string(alert.Data), "demo")
	var endCapture event.Outcome
	require.NoError(t, json.Unmarshal(await(t, envs, event.ActionEndCapture, nil).Data, &endCapture))
	require.False(t, endCapture.Success)
	require.Contains(t, endCapture.Reason, "stopped during the capture")
	var endConvert event.Outcome
	require.NoError(t, json.Unmarshal(await(t, envs, event.ActionEndConvert, nil).Data, &endConvert))
	require.True(t, endConvert.Success, endConvert.Reason)
	await(t, envs, event.ActionEndDownload, nil)

	var page struct {
		Items []dvr.VOD `json:"items"`
	}
	require.NoError(t, srv.Client.Do(context.Background(), "GET", "/api/v1/vods", nil, &page))
	require.Len(t, page.Items, 1)
	vod := page.Items[0]
	require.Equal(t, "interrupted", vod.Status)
	mp4 := filepath.Join(dir, "storage", "demo", vod.Basename, vod.Basename+".mp4")
	out, err := exec.Command("ffprobe", media.FFprobeArgs(mp4)...).Output()
	require.NoError(t, err)
	probe, err := media.ParseFFprobe(out)
	require.NoError(t, err)
	require.Greater(t, probe.Duration, time.Duration(0), "what was captured before the kill is kept")
}
