package media_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/media"
)

// Lines captured from streamlink 5.2.1 recording the test HLS server.
func TestParseStreamlinkProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want media.Progress
		ok   bool
	}{
		{line: "[download] Written 163.03 KiB to /tmp/TestExplore3288742801/002/a.ts (0s)       ",
			want: media.Progress{Kind: media.ProgressWritten, Bytes: 166942, Elapsed: 0}, ok: true},
		{line: "[download] Written 499.37 KiB to …Explore3288742801/002/a.ts (2s @ 199.29 KiB/s)",
			want: media.Progress{Kind: media.ProgressWritten, Bytes: 511354, Elapsed: 2 * time.Second, Rate: 199.29 * 1024}, ok: true},
		{line: "[download] Written 1.25 GiB to /data/x.ts (1h02m05s @ 750.10 KiB/s)",
			want: media.Progress{Kind: media.ProgressWritten, Bytes: 1342177280, Elapsed: time.Hour + 2*time.Minute + 5*time.Second, Rate: 750.10 * 1024}, ok: true},
		{line: "[download] Written 512 bytes (3m07s @ 12 bytes/s)",
			want: media.Progress{Kind: media.ProgressWritten, Bytes: 512, Elapsed: 3*time.Minute + 7*time.Second, Rate: 12}, ok: true},
		{line: "[cli][info] Opening stream: live (hls)",
			want: media.Progress{Kind: media.ProgressOpened, Message: "live (hls)"}, ok: true},
		{line: "[stream.hls][debug] Segment 3 complete",
			want: media.Progress{Kind: media.ProgressSegment, Segment: 3}, ok: true},
		{line: "[cli][info] Stream ended",
			want: media.Progress{Kind: media.ProgressEnded, Message: "Stream ended"}, ok: true},
		{line: "error: No playable streams found on this URL: https://www.twitch.tv/somechannel",
			want: media.Progress{Kind: media.ProgressOffline, Message: "No playable streams found on this URL: https://www.twitch.tv/somechannel"}, ok: true},
		{line: "[cli][info] Waiting for streams, retrying every 5.0 second(s)",
			want: media.Progress{Kind: media.ProgressOffline, Message: "Waiting for streams, retrying every 5.0 second(s)"}, ok: true},
		{line: "[stream.hls][warning] Failed to reload playlist: Unable to open URL: http://127.0.0.1:45591/live.m3u8 (404 Client Error: Not Found for url: http://127.0.0.1:45591/live.m3u8)",
			want: media.Progress{Kind: media.ProgressStall, Message: "Failed to reload playlist: Unable to open URL: http://127.0.0.1:45591/live.m3u8 (404 Client Error: Not Found for url: http://127.0.0.1:45591/live.m3u8)"}, ok: true},
		{line: "error: Error when reading from stream: Read timeout, exiting",
			want: media.Progress{Kind: media.ProgressStall, Message: "Error when reading from stream: Read timeout, exiting"}, ok: true},
		{line: "[stream.hls][warning] Encountered a stream discontinuity. This is unsupported and will result in incoherent output data.",
			want: media.Progress{Kind: media.ProgressWarning, Message: "Encountered a stream discontinuity. This is unsupported and will result in incoherent output data."}, ok: true},
		{line: "[stream.hls][info] Filtering out segments and pausing stream output",
			want: media.Progress{Kind: media.ProgressWarning, Message: "Filtering out segments and pausing stream output"}, ok: true},
		{line: "[stream.hls][error] Download of segment 12 failed: Read timed out",
			want: media.Progress{Kind: media.ProgressError, Message: "Download of segment 12 failed: Read timed out"}, ok: true},
		{line: "error: Unable to open URL: http://127.0.0.1:45591/live.m3u8 (404 Client Error: Not Found for url: http://127.0.0.1:45591/live.m3u8)",
			want: media.Progress{Kind: media.ProgressError, Message: "Unable to open URL: http://127.0.0.1:45591/live.m3u8 (404 Client Error: Not Found for url: http://127.0.0.1:45591/live.m3u8)"}, ok: true},
		{line: "[cli][error] File /tmp/out1.ts already exists, use --force to overwrite it.",
			want: media.Progress{Kind: media.ProgressError, Message: "File /tmp/out1.ts already exists, use --force to overwrite it."}, ok: true},
		{line: "[cli][info] Found matching plugin hls for URL http://127.0.0.1:34725/live.m3u8"},
		{line: "[cli][info] Writing output to"},
		{line: "/tmp/TestExplore3288742801/002/a.ts"},
		{line: "[stream.hls][debug] Reloading playlist"},
		{line: ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			got, ok := media.ParseStreamlinkProgress(tt.line)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

// Lines captured from ffmpeg 5.1 capturing the test HLS server with
// FFmpegCaptureArgs: a progress block on stdout, warnings on stderr.
func TestParseFFmpegProgress(t *testing.T) {
	t.Parallel()
	block := []string{
		"frame=60", "fps=29.91", "stream_0_0_q=-1.0", "bitrate=1034.8kbits/s", "total_size=262144",
		"out_time_us=2026667", "out_time_ms=2026667", "out_time=00:00:02.026667",
		"dup_frames=0", "drop_frames=0", "speed=1.01x",
	}
	t.Run("block", func(t *testing.T) {
		t.Parallel()
		var p media.Progress
		for _, line := range block {
			var ok bool
			p, ok = media.ParseFFmpegProgress(line, p)
			require.False(t, ok, line)
		}
		p, ok := media.ParseFFmpegProgress("progress=continue", p)
		require.True(t, ok)
		require.Equal(t, media.Progress{Kind: media.ProgressWritten, Bytes: 262144, OutTime: 2026667 * time.Microsecond, Speed: 1.01, Frames: 60}, p)

		p, ok = media.ParseFFmpegProgress("speed= 847x", p)
		require.False(t, ok)
		p, ok = media.ParseFFmpegProgress("progress=end", p)
		require.True(t, ok)
		require.Equal(t, media.Progress{Kind: media.ProgressEnded, Bytes: 262144, OutTime: 2026667 * time.Microsecond, Speed: 847, Frames: 60}, p)
	})
	t.Run("unknown values keep the previous ones", func(t *testing.T) {
		t.Parallel()
		prev := media.Progress{Bytes: 10, OutTime: time.Second, Speed: 1}
		p, ok := media.ParseFFmpegProgress("speed=N/A", prev)
		require.False(t, ok)
		p, ok = media.ParseFFmpegProgress("out_time_us=N/A", p)
		require.False(t, ok)
		require.Equal(t, prev, p)
	})

	prev := media.Progress{Kind: media.ProgressWritten, Bytes: 1000, OutTime: time.Second}
	tests := []struct {
		line string
		kind media.ProgressKind
		msg  string
		ok   bool
	}{
		{line: "[http @ 0x55dadf138180] HTTP error 404 Not Found", kind: media.ProgressOffline, msg: "HTTP error 404 Not Found", ok: true},
		{line: "http://127.0.0.1:45591/live.m3u8: Server returned 404 Not Found", kind: media.ProgressOffline, msg: "http://127.0.0.1:45591/live.m3u8: Server returned 404 Not Found", ok: true},
		{line: "[hls @ 0x5636f938ea00] Failed to reload playlist 0", kind: media.ProgressStall, msg: "Failed to reload playlist 0", ok: true},
		{line: "[tcp @ 0x5636f950e640] Connection to tcp://127.0.0.1:1 failed: Connection timed out", kind: media.ProgressStall, msg: "Connection to tcp://127.0.0.1:1 failed: Connection timed out", ok: true},
		{line: "[http @ 0x55b0c0a8e9c0] Will reconnect at 1071 in 1 second(s), error=Connection refused.", kind: media.ProgressStall, msg: "Will reconnect at 1071 in 1 second(s), error=Connection refused.", ok: true},
		{line: "File '/tmp/ff1.ts' already exists. Exiting.", kind: media.ProgressError, msg: "File '/tmp/ff1.ts' already exists. Exiting.", ok: true},
		{line: "[hls @ 0x557cb11d81c0] Skip ('#EXT-X-VERSION:3')", kind: media.ProgressWarning, msg: "Skip ('#EXT-X-VERSION:3')", ok: true},
		{line: "frame=   90 fps= 45 q=-1.0 Lsize=     509kB time=00:00:03.02 bitrate=1377.2kbits/s speed=1.51x    ", kind: media.ProgressWritten},
		{line: "video:451kB audio:25kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: 7.090171%", kind: media.ProgressWritten},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			got, ok := media.ParseFFmpegProgress(tt.line, prev)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.kind, got.Kind)
			require.Equal(t, tt.msg, got.Message)
			require.Equal(t, prev.Bytes, got.Bytes, "counters carry over")
			require.Equal(t, prev.OutTime, got.OutTime)
		})
	}
}
