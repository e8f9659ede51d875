package hlstest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/hlstest"
	"github.com/lsdvr/lsdvr/internal/media"
)

type testBundle struct {
	ctx   context.Context
	dir   string
	tools media.Tools
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	t.Cleanup(cancel)
	tools := media.FindTools(ctx, media.ToolPaths{})
	require.Empty(t, tools.Missing(media.FFmpeg, media.FFprobe, media.Streamlink), "recording tests need ffmpeg, ffprobe and streamlink")
	return &testBundle{ctx: ctx, dir: t.TempDir(), tools: tools}
}

// output runs a tool and returns its stdout.
func (b *testBundle) output(t *testing.T, path string, args []string) ([]byte, error) {
	t.Helper()
	var mu sync.Mutex
	var out strings.Builder
	err := media.Run(b.ctx, media.Cmd{Path: path, Args: args, OnLine: func(stream, line string) {
		if stream == media.Stdout {
			mu.Lock()
			out.WriteString(line + "\n")
			mu.Unlock()
		}
	}})
	mu.Lock()
	defer mu.Unlock()
	return []byte(out.String()), err
}

func (b *testBundle) probe(t *testing.T, path string) media.ProbeResult {
	t.Helper()
	out, err := b.output(t, b.tools.FFprobe.Path, media.FFprobeArgs(path))
	require.NoError(t, err)
	res, err := media.ParseFFprobe(out)
	require.NoError(t, err)
	return res
}

func requireDurationNear(t *testing.T, want, got time.Duration) {
	t.Helper()
	tolerance := want / 10
	require.InDelta(t, want.Seconds(), got.Seconds(), tolerance.Seconds(), "duration %s, want %s ±10%%", got, want)
}

func TestStreamServesLivePlaylist(t *testing.T) {
	t.Parallel()
	s := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 3, Window: 2, Offline: true, Title: "first"})

	res, err := http.Get(s.URL())
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNotFound, res.StatusCode, "offline before GoLive")

	changed := s.Changed()
	s.GoLive()
	<-changed
	body := get(t, s.URL())
	require.Contains(t, body, "#EXT-X-MEDIA-SEQUENCE:0\n")
	require.Contains(t, body, "seg/seg000.ts")
	require.NotContains(t, body, "#EXT-X-ENDLIST")

	// Wait for the last reveal: the window slides and the list ends.
	for !s.Ended() {
		select {
		case <-s.Changed():
		case <-time.After(10 * time.Second):
			t.Fatal("stream did not end")
		}
	}
	body = get(t, s.URL())
	require.Contains(t, body, "#EXT-X-MEDIA-SEQUENCE:1\n")
	require.NotContains(t, body, "seg000.ts", "slid out of the window")
	require.Contains(t, body, "seg/seg002.ts")
	require.Contains(t, body, "#EXT-X-ENDLIST")

	seg := get(t, strings.TrimSuffix(s.URL(), "live.m3u8")+"seg/seg002.ts")
	require.NotEmpty(t, seg)
	select {
	case <-s.WaitServed(1):
	case <-time.After(5 * time.Second):
		t.Fatal("segment not counted")
	}
	require.Equal(t, 1, s.Served())

	s.SetTitle("second")
	s.SetCategory("Just Chatting")
	meta := get(t, s.MetaURL())
	require.JSONEq(t, `{"live":false,"title":"second","category":"Just Chatting"}`, meta)
	require.Equal(t, "second", s.Title())
}

func TestStreamEndNowPublishesEndList(t *testing.T) {
	t.Parallel()
	s := hlstest.Start(t, hlstest.Options{SegmentSeconds: 2, Segments: 30})
	s.End()
	body := get(t, s.URL())
	require.Contains(t, body, "seg/seg000.ts")
	require.NotContains(t, body, "seg001.ts", "a segment not yet published before End stays unpublished")
	require.Contains(t, body, "#EXT-X-ENDLIST")

	res, err := http.Get(strings.TrimSuffix(s.URL(), "live.m3u8") + "seg/seg005.ts")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	s.SetOffline(true)
	res, err = http.Get(s.URL())
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}

// TestStreamlinkRecordsLiveStream proves the foundation of the recording
// tests: streamlink sees the stream offline then live, and records a
// playable file of the broadcast's length.
func TestStreamlinkRecordsLiveStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 4, Offline: true, Title: "hello"})
	sl := b.tools.Streamlink

	args, err := media.StreamlinkJSONArgs(sl.Version, s.URL())
	require.NoError(t, err)
	out, err := b.output(t, sl.Path, args)
	var exitErr *media.ExitError
	require.ErrorAs(t, err, &exitErr, "streamlink --json exits 1 on an offline URL")
	info, err := media.ParseStreamlinkJSON(out)
	require.NoError(t, err)
	require.False(t, info.Live)
	require.Contains(t, info.Reason, "404")

	s.GoLive()
	outPath := filepath.Join(b.dir, "capture.ts")
	captureArgs, err := media.StreamlinkCaptureArgs(sl.Version, media.CaptureOptions{
		URL: s.URL(), Quality: "720p,best", Output: outPath, StreamTimeout: 10 * time.Second, RetryOpen: 2,
		// Start at the oldest segment, so a slow start still records the
		// whole broadcast.
		LiveEdge: 5,
	})
	require.NoError(t, err)
	var mu sync.Mutex
	kinds := map[media.ProgressKind]int{}
	var lastWritten media.Progress
	captured := make(chan error, 1)
	go func() {
		captured <- media.Run(b.ctx, media.Cmd{
			Path: sl.Path, Args: captureArgs, LogPath: filepath.Join(b.dir, "capture.log"), MustNotExist: []string{outPath},
			OnLine: func(stream, line string) {
				if p, ok := media.ParseStreamlinkProgress(line); ok {
					mu.Lock()
					kinds[p.Kind]++
					if p.Kind == media.ProgressWritten {
						lastWritten = p
					}
					mu.Unlock()
				}
			},
		})
	}()

	args, err = media.StreamlinkJSONArgs(sl.Version, s.URL())
	require.NoError(t, err)
	out, err = b.output(t, sl.Path, args)
	require.NoError(t, err)
	info, err = media.ParseStreamlinkJSON(out)
	require.NoError(t, err)
	require.True(t, info.Live)
	require.Equal(t, "hls", info.Plugin)
	require.Contains(t, info.Qualities, "best")

	require.NoError(t, <-captured)
	res := b.probe(t, outPath)
	require.Equal(t, "mpegts", res.Format)
	requireDurationNear(t, s.Duration(), res.Duration)
	video, ok := res.Video()
	require.True(t, ok)
	require.Equal(t, "h264", video.Codec)
	require.Equal(t, 640, video.Width)
	require.Equal(t, 360, video.Height)
	_, ok = res.Audio()
	require.True(t, ok)

	mu.Lock()
	require.Equal(t, 1, kinds[media.ProgressOpened])
	require.Equal(t, 1, kinds[media.ProgressEnded])
	require.Positive(t, kinds[media.ProgressWritten])
	size := fileSize(t, outPath)
	// The progress line is printed every 0.25 s, so the last one may miss
	// the last segment.
	require.Positive(t, lastWritten.Bytes)
	require.LessOrEqual(t, lastWritten.Bytes, size+size/100, "progress reports the bytes written")
	mu.Unlock()

	log, err := os.ReadFile(filepath.Join(b.dir, "capture.log"))
	require.NoError(t, err)
	require.Contains(t, string(log), "Opening stream")

	// A second capture to the same path is refused before streamlink runs.
	err = media.Run(b.ctx, media.Cmd{Path: sl.Path, Args: captureArgs, MustNotExist: []string{outPath}})
	require.ErrorContains(t, err, "already exists")
}

// TestFFmpegRecordsLiveStream proves that ffmpeg reading HLS directly
// records the whole broadcast with parseable progress.
func TestFFmpegRecordsLiveStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 4})
	outPath := filepath.Join(b.dir, "capture.ts")
	args, err := media.FFmpegCaptureArgs(media.FFmpegCaptureOptions{URL: s.URL(), Output: outPath, IOTimeout: 10 * time.Second, FromWindowStart: true})
	require.NoError(t, err)

	var last media.Progress
	var reports []media.Progress
	err = media.Run(b.ctx, media.Cmd{Path: b.tools.FFmpeg.Path, Args: args, MustNotExist: []string{outPath},
		OnLine: func(stream, line string) {
			var ok bool
			if last, ok = media.ParseFFmpegProgress(line, last); ok {
				reports = append(reports, last)
			}
		}})
	require.NoError(t, err)

	res := b.probe(t, outPath)
	require.Equal(t, "mpegts", res.Format)
	requireDurationNear(t, s.Duration(), res.Duration)
	require.Equal(t, 4, s.Served())

	require.NotEmpty(t, reports)
	final := reports[len(reports)-1]
	require.Equal(t, media.ProgressEnded, final.Kind)
	require.Equal(t, fileSize(t, outPath), final.Bytes)
	requireDurationNear(t, s.Duration(), final.OutTime)
}

// TestCaptureStopsOnCancel proves a capture of a stream that never ends
// stops when its context ends and keeps a playable part.
func TestCaptureStopsOnCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 30})
	outPath := filepath.Join(b.dir, "part1.ts")
	args, err := media.FFmpegCaptureArgs(media.FFmpegCaptureOptions{URL: s.URL(), Output: outPath})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(b.ctx)
	go func() {
		<-s.WaitServed(2)
		cancel()
	}()
	err = media.Run(ctx, media.Cmd{Path: b.tools.FFmpeg.Path, Args: args, Grace: 5 * time.Second})
	var exitErr *media.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.True(t, exitErr.Canceled)
	require.False(t, exitErr.Killed, "ffmpeg stops on SIGTERM within the grace period")
	require.True(t, errors.Is(err, context.Canceled))

	res := b.probe(t, outPath)
	require.Greater(t, res.Duration, 500*time.Millisecond)
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, url)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(body)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}
