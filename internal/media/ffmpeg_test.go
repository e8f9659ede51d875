package media_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/media"
)

func TestFFmpegCaptureArgs(t *testing.T) {
	t.Parallel()
	head := []string{"-nostdin", "-hide_banner", "-loglevel", "warning", "-nostats", "-progress", "pipe:1"}
	tests := []struct {
		name    string
		o       media.FFmpegCaptureOptions
		want    []string
		wantErr string
	}{
		{
			name: "defaults",
			o:    media.FFmpegCaptureOptions{URL: "http://127.0.0.1:8000/live.m3u8", Output: "/data/a/part-001.ts"},
			want: append(append([]string{}, head...),
				"-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "30",
				"-rw_timeout", "30000000", "-m3u8_hold_counters", "30",
				"-i", "http://127.0.0.1:8000/live.m3u8", "-c", "copy", "-f", "mpegts", "-n", "/data/a/part-001.ts"),
		},
		{
			name: "headers, user agent and limits",
			o: media.FFmpegCaptureOptions{
				URL: "https://cdn.example.com/x/index.m3u8", Output: "/data/a/part-002.ts",
				UserAgent: "lsdvr/1.0", Headers: []media.Header{{Key: "Referer", Value: "https://example.com/"}, {Key: "Cookie", Value: "a=b"}},
				ReconnectDelayMax: 10 * time.Second, IOTimeout: 5 * time.Second, HoldReloads: 8, FromWindowStart: true,
			},
			want: append(append([]string{}, head...),
				"-user_agent", "lsdvr/1.0",
				"-headers", "Referer: https://example.com/\r\nCookie: a=b\r\n",
				"-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "10",
				"-rw_timeout", "5000000", "-m3u8_hold_counters", "8", "-live_start_index", "0",
				"-i", "https://cdn.example.com/x/index.m3u8", "-c", "copy", "-f", "mpegts", "-n", "/data/a/part-002.ts"),
		},
		{name: "missing url", o: media.FFmpegCaptureOptions{Output: "/tmp/a.ts"}, wantErr: "url is required"},
		{name: "missing output", o: media.FFmpegCaptureOptions{URL: "https://x/s.m3u8"}, wantErr: "output is required"},
		{name: "flag-like output", o: media.FFmpegCaptureOptions{URL: "https://x/s.m3u8", Output: "-y"}, wantErr: `output "-y" must not start with '-'`},
		{name: "header injection", o: media.FFmpegCaptureOptions{URL: "https://x/s.m3u8", Output: "/tmp/a.ts", Headers: []media.Header{{Key: "X", Value: "a\r\nEvil: 1"}}}, wantErr: "headers: value of X must not contain control characters"},
		{name: "bad header name", o: media.FFmpegCaptureOptions{URL: "https://x/s.m3u8", Output: "/tmp/a.ts", Headers: []media.Header{{Key: "A: B"}}}, wantErr: `headers: invalid header name "A: B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.FFmpegCaptureArgs(tt.o)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.NotContains(t, got, "-y", "ffmpeg must never overwrite a file")
		})
	}
}

func TestRemuxArgs(t *testing.T) {
	t.Parallel()
	head := []string{"-nostdin", "-hide_banner", "-loglevel", "warning", "-nostats", "-progress", "pipe:1"}
	tests := []struct {
		name    string
		o       media.RemuxOptions
		want    []string
		wantErr string
	}{
		{
			name: "with chapters",
			o:    media.RemuxOptions{List: "/d/v/parts.ffconcat", Chapters: "/d/v/chapters.txt", Output: "/d/v/.v.mp4.tmp"},
			want: append(append([]string{}, head...),
				"-fflags", "+discardcorrupt", "-f", "concat", "-safe", "0", "-i", "/d/v/parts.ffconcat",
				"-f", "ffmetadata", "-i", "/d/v/chapters.txt",
				"-map", "0:v?", "-map", "0:a?", "-map_metadata", "1", "-map_chapters", "1",
				"-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-n", "/d/v/.v.mp4.tmp"),
		},
		{
			name: "without chapters",
			o:    media.RemuxOptions{List: "/d/v/parts.ffconcat", Output: "/d/v/.v.mp4.tmp"},
			want: append(append([]string{}, head...),
				"-fflags", "+discardcorrupt", "-f", "concat", "-safe", "0", "-i", "/d/v/parts.ffconcat",
				"-map", "0:v?", "-map", "0:a?",
				"-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-n", "/d/v/.v.mp4.tmp"),
		},
		{name: "missing list", o: media.RemuxOptions{Output: "/d/v.mp4"}, wantErr: "list is required"},
		{name: "missing output", o: media.RemuxOptions{List: "/d/l"}, wantErr: "output is required"},
		{name: "flag-like chapters", o: media.RemuxOptions{List: "/d/l", Chapters: "-i", Output: "/d/v.mp4"}, wantErr: `chapters "-i" must not start with '-'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.RemuxArgs(tt.o)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestConcatList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		parts   []string
		want    string
		wantErr string
	}{
		{
			name:  "two parts",
			parts: []string{"/data/storage/ch/v1/part-001.ts", "/data/storage/ch/v1/part-002.ts"},
			want:  "ffconcat version 1.0\nfile '/data/storage/ch/v1/part-001.ts'\nfile '/data/storage/ch/v1/part-002.ts'\n",
		},
		{
			name:  "quote in path",
			parts: []string{"/data/it's here/p 1.ts"},
			want:  "ffconcat version 1.0\nfile '/data/it'\\''s here/p 1.ts'\n",
		},
		{name: "empty", wantErr: "parts: at least one part is required"},
		{name: "newline in path", parts: []string{"/a\nb.ts"}, wantErr: `parts: invalid path "/a\nb.ts"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.ConcatList(tt.parts)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
