package record

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProgressLogThinsProgressOnly(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	f := newProgressLog(func() time.Time { return now })
	lines := []struct {
		line string
		keep bool
		step time.Duration // clock advance before the line
	}{
		{"[cli][info] Opening stream: 720p (hls)", true, 0},
		{"[download] Written 1.20 MiB (3s @ 400.00 KiB/s)", true, 0},
		{"[download] Written 1.50 MiB (4s @ 380.00 KiB/s)", false, time.Second},
		{"[stream.hls][warning] Failed to reload playlist", true, time.Second},
		{"[download] Written 9.00 MiB (31s @ 300.00 KiB/s)", true, 30 * time.Second},
		// An ffmpeg block is kept whole when due, dropped whole otherwise.
		{"frame=120", true, 30 * time.Second},
		{"out_time=00:00:04.000000", true, 0},
		{"progress=continue", true, 0},
		{"frame=130", false, time.Second},
		{"out_time=00:00:04.500000", false, 0},
		{"progress=continue", false, 0},
		{"[hls @ 0x55] Opening 'seg12.ts' for reading", true, 0},
	}
	for i, l := range lines {
		now = now.Add(l.step)
		require.Equal(t, l.keep, f.keep("stderr", l.line), "line %d: %s", i, l.line)
	}
}

func TestIsFFmpegProgressLine(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]bool{
		"frame=120":                              true,
		"stream_0_0_q=-1.0":                      true,
		"out_time=00:00:04.000000":               true,
		"progress=end":                           true,
		"bitrate=N/A":                            true,
		"[hls @ 0x55] Opening 'a=b' for reading": false,
		"Stream ended":                           false,
		"=x":                                     false,
		"Key=Value":                              false,
	} {
		require.Equal(t, want, isFFmpegProgressLine(line), line)
	}
}
