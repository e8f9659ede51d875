package record_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/hlstest"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/record"
)

var _ api.ChannelRecorder = (*record.Recorder)(nil)

// serveRecord serves the record-now route over rec on 127.0.0.1.
func serveRecord(t *testing.T, rec api.ChannelRecorder) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(api.New(slog.New(slog.NewTextHandler(io.Discard, nil)), api.NewRecord(rec)))
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// postRecord asks to record channel id and returns the status and body.
func postRecord(t *testing.T, base string, id int64) (int, []byte) {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/channels/"+strconv.FormatInt(id, 10)+"/record", "application/json", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

func errorMessage(t *testing.T, body []byte) string {
	t.Helper()
	var e api.ErrorBody
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	return e.Error.Message
}

// "Record now" starts a capture of a live channel that is not watched
// (disabled), refuses a second one while it runs, and knows unknown and
// offline channels.
func TestRecordNow(t *testing.T) {
	t.Parallel()
	// The broadcast starts when the test is ready, however slow the set-up.
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 3, Offline: true})
	offline := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 2, Offline: true})
	cb := setupCapture(t, captureOpts{})
	ch := cb.addChannel(t, "manual", stream.URL(), record.BackendFFmpeg, false)
	off := cb.addChannel(t, "sleepy", offline.URL(), "", false)
	base := serveRecord(t, cb.rec)
	stream.GoLive()

	status, body := postRecord(t, base, ch.ID)
	require.Equal(t, http.StatusAccepted, status, string(body))
	var v dvr.VOD
	require.NoError(t, json.Unmarshal(body, &v))
	require.Equal(t, record.StatusCapturing, v.Status)
	require.Equal(t, ch.ID, v.ChannelID)
	require.Equal(t, "manual", v.ChannelName)
	recording, ok := cb.rec.Recording(ch.ID)
	require.True(t, ok)
	require.Equal(t, v.ID, recording.ID)

	status, body = postRecord(t, base, ch.ID)
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, errorMessage(t, body), "already being recorded")

	status, body = postRecord(t, base, 999)
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, errorMessage(t, body), "not found")

	status, body = postRecord(t, base, off.ID)
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, errorMessage(t, body), "channel is offline")

	end := cb.seen.waitAction(t, event.ActionEndCapture, v.ID)
	require.Equal(t, true, end.Data["success"], end.Data["reason"])
	cb.seen.waitAction(t, event.ActionEndDownload, v.ID)
	require.Equal(t, record.StatusFinalized, cb.vod(t, v.ID).Status)
}

// Without streamlink and ffmpeg the recorder still runs, and "record now"
// says why nothing can be recorded.
func TestRecordNowWithoutTools(t *testing.T) {
	t.Parallel()
	none := media.Tools{
		FFmpeg:     media.Tool{Name: media.FFmpeg, Error: "ffmpeg not found on PATH"},
		Streamlink: media.Tool{Name: media.Streamlink, Error: "streamlink not found on PATH"},
	}
	cb := setupCapture(t, captureOpts{tools: &none})
	require.False(t, cb.rec.Enabled())
	ch := cb.addChannel(t, "nothing", "http://127.0.0.1:1/live.m3u8", "", true)
	base := serveRecord(t, cb.rec)

	status, body := postRecord(t, base, ch.ID)
	require.Equal(t, http.StatusServiceUnavailable, status)
	msg := errorMessage(t, body)
	require.Contains(t, msg, "recording is disabled")
	require.Contains(t, msg, "streamlink not found on PATH")
}
