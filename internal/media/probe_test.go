package media_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/media"
)

func TestFFprobeArgs(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{
		"-v", "error", "-hide_banner", "-print_format", "json",
		"-show_format", "-show_streams", "-show_chapters", "-i", "/data/v/-odd name.mp4",
	}, media.FFprobeArgs("/data/v/-odd name.mp4"))
}

func TestParseFFprobe(t *testing.T) {
	t.Parallel()
	// Real output of ffprobe 5.1 on an MP4 made by RemuxArgs from two
	// parts with two chapters.
	mp4, err := os.ReadFile("testdata/ffprobe_mp4.json")
	require.NoError(t, err)
	tests := []struct {
		name    string
		in      string
		want    media.ProbeResult
		wantErr string
	}{
		{
			name: "remuxed mp4",
			in:   string(mp4),
			want: media.ProbeResult{
				Format: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 3056 * time.Millisecond, Size: 299935, BitRate: 785170,
				Streams: []media.ProbeStream{
					{Index: 0, Type: "video", Codec: "h264", Width: 320, Height: 180, Duration: 3023222 * time.Microsecond},
					{Index: 1, Type: "audio", Codec: "aac", Duration: 3055737 * time.Microsecond},
					{Index: 2, Type: "data", Codec: "bin_data", Duration: 3 * time.Second},
				},
				Chapters: []media.ProbeChapter{
					{Start: 0, End: time.Second, Title: "Intro = ; #"},
					{Start: time.Second, End: 3 * time.Second, Title: "Main"},
				},
			},
		},
		{
			name: "live ts without duration",
			in:   `{"streams": [{"index": 0, "codec_name": "h264", "codec_type": "video", "width": 1920, "height": 1080}], "format": {"format_name": "mpegts", "duration": "N/A"}}`,
			want: media.ProbeResult{Format: "mpegts", Streams: []media.ProbeStream{{Type: "video", Codec: "h264", Width: 1920, Height: 1080}}},
		},
		{name: "empty file probe", in: `{}`, wantErr: `parse ffprobe json: no "format" section`},
		{name: "truncated", in: `{"format": {`, wantErr: "parse ffprobe json: unexpected end of JSON input"},
		{name: "bad duration", in: `{"format": {"duration": "abc"}}`, wantErr: `parse ffprobe json: format.duration: strconv.ParseFloat: parsing "abc": invalid syntax`},
		{name: "bad chapter", in: `{"format": {}, "chapters": [{"start_time": "0", "end_time": "x"}]}`, wantErr: `parse ffprobe json: chapters[0].end_time: strconv.ParseFloat: parsing "x": invalid syntax`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.ParseFFprobe([]byte(tt.in))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestProbeResultStreams(t *testing.T) {
	t.Parallel()
	r := media.ProbeResult{Streams: []media.ProbeStream{{Index: 0, Type: "audio", Codec: "aac"}, {Index: 1, Type: "video", Codec: "h264"}}}
	v, ok := r.Video()
	require.True(t, ok)
	require.Equal(t, 1, v.Index)
	a, ok := r.Audio()
	require.True(t, ok)
	require.Equal(t, "aac", a.Codec)
	_, ok = media.ProbeResult{}.Video()
	require.False(t, ok)
}
