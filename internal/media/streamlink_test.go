package media_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/media"
)

var (
	sl521 = media.Version{Major: 5, Minor: 2, Patch: 1, Raw: "5.2.1"}
	sl531 = media.Version{Major: 5, Minor: 3, Patch: 1, Raw: "5.3.1"}
	sl740 = media.Version{Major: 7, Minor: 4, Patch: 0, Raw: "7.4.0"}
	sl812 = media.Version{Major: 8, Minor: 1, Patch: 2, Raw: "8.1.2"}
)

func TestStreamlinkCaptureArgs(t *testing.T) {
	t.Parallel()
	full := media.CaptureOptions{
		URL:             "https://www.twitch.tv/somechannel",
		Quality:         "720p60,720p,best",
		Output:          "/data/storage/somechannel/vod1/part-001.ts",
		FFmpegPath:      "/usr/bin/ffmpeg",
		Headers:         []media.Header{{Key: "Referer", Value: "https://example.com/"}},
		StreamTimeout:   90 * time.Second,
		RetryStreams:    5 * time.Second,
		RetryMax:        3,
		RetryOpen:       2,
		SegmentThreads:  2,
		SegmentAttempts: 5,
		SegmentTimeout:  2500 * time.Millisecond,
		LiveEdge:        4,
		Twitch: media.TwitchOptions{
			DisableAds: true, DisableReruns: true, LowLatency: true,
			APIHeaders: []media.Header{{Key: "Authorization", Value: "OAuth abc123"}},
		},
	}
	fullTail := []string{
		"--output", "/data/storage/somechannel/vod1/part-001.ts",
		"--ffmpeg-ffmpeg", "/usr/bin/ffmpeg",
		"--stream-timeout", "90",
		"--retry-streams", "5",
		"--retry-max", "3",
		"--retry-open", "2",
		"--stream-segment-threads", "2",
		"--stream-segment-attempts", "5",
		"--stream-segment-timeout", "2.5",
		"--hls-live-edge", "4",
		"--http-header", "Referer=https://example.com/",
	}
	twitchTail := []string{
		"--twitch-disable-reruns",
		"--twitch-low-latency",
		"--twitch-api-header", "Authorization=OAuth abc123",
		"https://www.twitch.tv/somechannel", "720p60,720p,best",
	}
	concat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name    string
		v       media.Version
		o       media.CaptureOptions
		want    []string
		wantErr string
	}{
		{
			name: "minimal on 5.2 forces progress the old way and defaults to best",
			v:    sl521,
			o:    media.CaptureOptions{URL: "http://127.0.0.1:8000/live.m3u8", Output: "/tmp/a.ts"},
			want: []string{"--loglevel", "info", "--force-progress", "--output", "/tmp/a.ts", "http://127.0.0.1:8000/live.m3u8", "best"},
		},
		{
			name: "full on 5.2 passes --twitch-disable-ads",
			v:    sl521, o: full,
			want: concat([]string{"--loglevel", "info", "--force-progress"}, fullTail, []string{"--twitch-disable-ads"}, twitchTail),
		},
		{
			name: "5.3 still uses --force-progress",
			v:    sl531, o: media.CaptureOptions{URL: "https://example.com/s.m3u8", Output: "/tmp/a.ts", Quality: "best"},
			want: []string{"--loglevel", "info", "--force-progress", "--output", "/tmp/a.ts", "https://example.com/s.m3u8", "best"},
		},
		{
			name: "7.4 uses --progress=force and still needs --twitch-disable-ads",
			v:    sl740, o: full,
			want: concat([]string{"--loglevel", "info", "--progress=force"}, fullTail, []string{"--twitch-disable-ads"}, twitchTail),
		},
		{
			name: "8.1 filters ads itself",
			v:    sl812, o: full,
			want: concat([]string{"--loglevel", "info", "--progress=force"}, fullTail, twitchTail),
		},
		{
			name: "unknown (git) version is treated as current",
			v:    media.Version{Raw: "dev"}, o: media.CaptureOptions{URL: "https://example.com/s.m3u8", Output: "/tmp/a.ts", Debug: true},
			want: []string{"--loglevel", "debug", "--progress=force", "--output", "/tmp/a.ts", "https://example.com/s.m3u8", "best"},
		},
		{name: "missing url", v: sl521, o: media.CaptureOptions{Output: "/tmp/a.ts"}, wantErr: "url is required"},
		{name: "url that reads as a flag", v: sl521, o: media.CaptureOptions{URL: "--player=evil", Output: "/tmp/a.ts"}, wantErr: `url "--player=evil" must not start with '-'`},
		{name: "missing output", v: sl521, o: media.CaptureOptions{URL: "https://example.com/s.m3u8"}, wantErr: "output is required"},
		{name: "quality with spaces", v: sl521, o: media.CaptureOptions{URL: "https://x/s.m3u8", Output: "/tmp/a.ts", Quality: "720p, best"}, wantErr: `quality "720p, best" must be a comma-separated list without spaces`},
		{name: "too many threads", v: sl521, o: media.CaptureOptions{URL: "https://x/s.m3u8", Output: "/tmp/a.ts", SegmentThreads: 11}, wantErr: "segment_threads must be between 1 and 10, got 11"},
		{name: "bad header name", v: sl521, o: media.CaptureOptions{URL: "https://x/s.m3u8", Output: "/tmp/a.ts", Headers: []media.Header{{Key: "A=B", Value: "c"}}}, wantErr: `headers: invalid header name "A=B"`},
		{name: "header value with newline", v: sl521, o: media.CaptureOptions{URL: "https://x/s.m3u8", Output: "/tmp/a.ts", Twitch: media.TwitchOptions{APIHeaders: []media.Header{{Key: "Authorization", Value: "a\nb"}}}}, wantErr: "twitch.api_headers: value of Authorization must not contain control characters"},
		{name: "too old", v: media.Version{Major: 4, Minor: 3, Raw: "4.3.0"}, o: media.CaptureOptions{URL: "https://x/s.m3u8", Output: "/tmp/a.ts"}, wantErr: "streamlink 4.3.0 is too old: lsdvr needs 5.0.0 or newer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.StreamlinkCaptureArgs(tt.v, tt.o)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.NotContains(t, got, "--force", "streamlink must never overwrite a file")
			require.NotContains(t, got, "--hls-live-restart")
		})
	}
}

func TestStreamlinkJSONArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       media.Version
		url     string
		headers []media.Header
		want    []string
		wantErr string
	}{
		{name: "plain", v: sl521, url: "https://www.twitch.tv/x", want: []string{"--json", "https://www.twitch.tv/x"}},
		{name: "with header", v: sl812, url: "https://x/s.m3u8", headers: []media.Header{{Key: "Cookie", Value: "a=b"}}, want: []string{"--json", "--http-header", "Cookie=a=b", "https://x/s.m3u8"}},
		{name: "flag-like url", v: sl521, url: "-h", wantErr: `url "-h" must not start with '-'`},
		{name: "empty url", v: sl521, wantErr: "url is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.StreamlinkJSONArgs(tt.v, tt.url, tt.headers...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// Outputs captured from streamlink 5.2.1 (the live and 404 cases against
// the test HLS server), plus the Twitch plugin's documented metadata.
func TestParseStreamlinkJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		want     media.StreamInfo
		wantErr  string
		wantCode string
	}{
		{
			name: "live hls",
			in: `{
  "plugin": "hls",
  "metadata": {"id": null, "author": null, "category": null, "title": null},
  "streams": {
    "live": {"type": "hls", "url": "http://127.0.0.1:18765/index.m3u8", "headers": {"User-Agent": "Mozilla/5.0"}},
    "worst": {"type": "hls", "url": "http://127.0.0.1:18765/index.m3u8", "headers": {}},
    "best": {"type": "hls", "url": "http://127.0.0.1:18765/index.m3u8", "headers": {}}
  }
}`,
			want: media.StreamInfo{Live: true, Plugin: "hls", Qualities: []string{"live", "worst", "best"}},
		},
		{
			name: "live twitch with metadata",
			in: `{"plugin": "twitch", "metadata": {"id": "40123456789", "author": "SomeStreamer", "category": "Just Chatting", "title": "hello = world"},
 "streams": {"audio_only": {"type": "hls"}, "160p": {"type": "hls"}, "720p60": {"type": "hls"}, "1080p60": {"type": "hls"}, "worst": {"type": "hls"}, "best": {"type": "hls"}}}`,
			want: media.StreamInfo{Live: true, Plugin: "twitch", Qualities: []string{"audio_only", "160p", "720p60", "1080p60", "worst", "best"},
				ID: "40123456789", Author: "SomeStreamer", Category: "Just Chatting", Title: "hello = world"},
		},
		{
			name: "numeric id",
			in:   `{"plugin": "x", "metadata": {"id": 42}, "streams": {"best": {}}}`,
			want: media.StreamInfo{Live: true, Plugin: "x", Qualities: []string{"best"}, ID: "42"},
		},
		{
			name: "offline twitch",
			in:   `{"error": "No playable streams found on this URL: https://www.twitch.tv/somechannel"}`,
			want: media.StreamInfo{Reason: "No playable streams found on this URL: https://www.twitch.tv/somechannel"},
		},
		{
			name: "playlist gone",
			in:   `{"error": "Unable to open URL: http://127.0.0.1:45591/live.m3u8 (404 Client Error: Not Found for url: http://127.0.0.1:45591/live.m3u8)"}`,
			want: media.StreamInfo{Reason: "Unable to open URL: http://127.0.0.1:45591/live.m3u8 (404 Client Error: Not Found for url: http://127.0.0.1:45591/live.m3u8)"},
		},
		{
			name: "empty stream list",
			in:   `{"plugin": "hls", "metadata": {}, "streams": {}}`,
			want: media.StreamInfo{Plugin: "hls", Reason: "no streams listed"},
		},
		{
			name:    "no plugin",
			in:      `{"error": "No plugin can handle URL: http://127.0.0.1:18765/"}`,
			wantErr: "streamlink: No plugin can handle URL: http://127.0.0.1:18765/", wantCode: dvr.EINVALID,
		},
		{
			name:    "server error",
			in:      `{"error": "Unable to open URL: https://x/s.m3u8 (503 Server Error)"}`,
			wantErr: "streamlink: Unable to open URL: https://x/s.m3u8 (503 Server Error)", wantCode: dvr.EUNAVAILABLE,
		},
		{name: "empty", in: "  \n", wantErr: "parse streamlink json: empty output", wantCode: dvr.EINTERNAL},
		{name: "not json", in: "error: No playable streams", wantErr: "parse streamlink json: invalid character 'e' looking for beginning of value", wantCode: dvr.EINTERNAL},
		{name: "neither streams nor error", in: `{"plugin": "hls"}`, wantErr: `parse streamlink json: neither "streams" nor "error" in output`, wantCode: dvr.EINTERNAL},
		{name: "streams not an object", in: `{"streams": []}`, wantErr: "parse streamlink json: streams: want an object, got [", wantCode: dvr.EINTERNAL},
		{name: "metadata not a scalar", in: `{"streams": {"best": {}}, "metadata": {"title": ["a"]}}`, wantErr: `parse streamlink json: metadata.title: want a string, got ["a"]`, wantCode: dvr.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.ParseStreamlinkJSON([]byte(tt.in))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.Equal(t, tt.wantCode, dvr.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
