package media

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ProgressKind says what a parsed output line reports.
type ProgressKind string

// Progress kinds. A parser returns report=false for lines of no interest.
const (
	// ProgressWritten reports bytes written (and media time for ffmpeg).
	ProgressWritten ProgressKind = "written"
	// ProgressOpened reports that the tool opened the stream and writes.
	ProgressOpened ProgressKind = "opened"
	// ProgressSegment reports a completed HLS segment (streamlink at
	// --loglevel debug only).
	ProgressSegment ProgressKind = "segment"
	// ProgressEnded reports that the stream ended. streamlink prints it
	// also before a read timeout, so only the exit status is final.
	ProgressEnded ProgressKind = "ended"
	// ProgressOffline reports that the source has no playable stream: the
	// channel is not live (or no longer).
	ProgressOffline ProgressKind = "offline"
	// ProgressStall reports a stalled or reconnecting input: a timeout, a
	// failed playlist reload, a reconnect.
	ProgressStall ProgressKind = "stall"
	// ProgressWarning reports a warning worth keeping (discontinuity,
	// skipped segments, ads filtered out).
	ProgressWarning ProgressKind = "warning"
	// ProgressError reports an error line; the exit status follows.
	ProgressError ProgressKind = "error"
)

// Progress is typed progress parsed from a tool's output.
type Progress struct {
	Kind ProgressKind `json:"kind"`
	// Bytes written so far. streamlink prints it rounded to two decimals
	// of its unit (KiB, MiB...), so it is approximate there.
	Bytes int64 `json:"bytes,omitempty"`
	// Elapsed is the wall time since the tool began writing (streamlink).
	Elapsed time.Duration `json:"elapsed,omitempty"`
	// Rate is the recent write rate in bytes per second (streamlink).
	Rate float64 `json:"rate,omitempty"`
	// OutTime is the media time written so far (ffmpeg).
	OutTime time.Duration `json:"out_time,omitempty"`
	// Speed is the processing speed as a multiple of real time (ffmpeg);
	// about 1 for a live capture, far more for a remux.
	Speed float64 `json:"speed,omitempty"`
	// Frames is the number of video frames written (ffmpeg).
	Frames int64 `json:"frames,omitempty"`
	// Segment is the number of the last completed segment (streamlink).
	Segment int64 `json:"segment,omitempty"`
	// Message is the human text of an opened, offline, stall, warning or
	// error line, without the tool's log prefix.
	Message string `json:"message,omitempty"`
}

var (
	// [download] Written 499.37 KiB to …/a.ts (2s @ 199.29 KiB/s)
	// [download] Written 12 bytes (0s)
	slWritten = regexp.MustCompile(`^\[download\] Written ([\d.]+) (bytes|KiB|MiB|GiB|TiB)(?: to .*?)? \(((?:\d+h)?(?:\d+m)?\d+s)(?: @ ([\d.]+) (bytes|KiB|MiB|GiB|TiB)/s)?\)\s*$`)
	// [stream.hls][debug] Segment 3 complete
	slSegment = regexp.MustCompile(`^\[stream\.\w+\]\[debug\] Segment (\d+) complete`)
	// [cli][info] message
	slLog = regexp.MustCompile(`^\[([\w.]+)\]\[(\w+)\] (.*)$`)
	// [hls @ 0x55dadf138180] message
	ffPrefix = regexp.MustCompile(`^\[[\w:.-]+ @ 0x[0-9a-f]+\] `)
)

// ParseStreamlinkProgress parses one line of streamlink output (stdout or
// stderr, as split by Run) run with --loglevel info (or debug) and forced
// progress. It reports false for lines of no interest.
func ParseStreamlinkProgress(line string) (Progress, bool) {
	line = strings.TrimRight(line, " ")
	if m := slWritten.FindStringSubmatch(line); m != nil {
		p := Progress{Kind: ProgressWritten, Bytes: int64(parseSize(m[1], m[2])), Elapsed: parseElapsed(m[3])}
		if m[4] != "" {
			p.Rate = parseSize(m[4], m[5])
		}
		return p, true
	}
	if m := slSegment.FindStringSubmatch(line); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return Progress{Kind: ProgressSegment, Segment: n}, true
	}
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		return classifyStreamlinkError(msg), true
	}
	m := slLog.FindStringSubmatch(line)
	if m == nil {
		return Progress{}, false
	}
	level, msg := m[2], m[3]
	switch level {
	case "error", "critical":
		return classifyStreamlinkError(msg), true
	case "warning":
		if strings.HasPrefix(msg, "Failed to reload playlist") {
			return Progress{Kind: ProgressStall, Message: msg}, true
		}
		return Progress{Kind: ProgressWarning, Message: msg}, true
	}
	switch {
	case strings.HasPrefix(msg, "Opening stream: "):
		return Progress{Kind: ProgressOpened, Message: strings.TrimPrefix(msg, "Opening stream: ")}, true
	case msg == "Stream ended":
		return Progress{Kind: ProgressEnded, Message: msg}, true
	case strings.HasPrefix(msg, "Waiting for streams"), strings.HasPrefix(msg, "Stream not available"):
		return Progress{Kind: ProgressOffline, Message: msg}, true
	case strings.HasPrefix(msg, "Filtering out segments"), strings.HasPrefix(msg, "Resuming stream output"):
		return Progress{Kind: ProgressWarning, Message: msg}, true
	}
	return Progress{}, false
}

func classifyStreamlinkError(msg string) Progress {
	switch {
	case strings.HasPrefix(msg, "No playable streams found"):
		return Progress{Kind: ProgressOffline, Message: msg}
	case strings.Contains(msg, "Read timeout"):
		return Progress{Kind: ProgressStall, Message: msg}
	}
	return Progress{Kind: ProgressError, Message: msg}
}

// ParseFFmpegProgress folds one line of ffmpeg output into prev and returns
// the new state. ffmpeg run with "-progress pipe:1" prints key=value lines
// on stdout, a block ending with progress=continue or progress=end; report
// is true at the end of each block (Kind written or ended) and for each
// warning or error line on stderr (Kind stall, offline, warning, error,
// with Message). Counters carry over between calls, so keep the returned
// value and pass it back with the next line.
func ParseFFmpegProgress(line string, prev Progress) (p Progress, report bool) {
	p = prev
	line = strings.TrimSpace(line)
	if line == "" {
		return p, false
	}
	if k, v, ok := strings.Cut(line, "="); ok && isProgressKey(k) {
		v = strings.TrimSpace(v)
		switch k {
		case "total_size":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				p.Bytes = n
			}
		case "out_time_us":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				p.OutTime = time.Duration(n) * time.Microsecond
			}
		case "frame":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				p.Frames = n
			}
		case "speed":
			if f, err := strconv.ParseFloat(strings.TrimSuffix(v, "x"), 64); err == nil {
				p.Speed = f
			}
		case "progress":
			p.Message = ""
			if v == "end" {
				p.Kind = ProgressEnded
			} else {
				p.Kind = ProgressWritten
			}
			return p, true
		}
		return p, false
	}
	msg := ffPrefix.ReplaceAllString(line, "")
	p.Message = msg
	lower := strings.ToLower(msg)
	switch {
	case strings.HasPrefix(msg, "frame=") || strings.HasPrefix(msg, "video:") || strings.HasPrefix(msg, "size="):
		// The final -stats summary; -progress already reported it.
		p.Message = prev.Message
		return p, false
	case strings.Contains(msg, "404 Not Found") || strings.Contains(msg, "410 Gone"):
		p.Kind = ProgressOffline
	case strings.Contains(lower, "timed out") || strings.Contains(lower, "reconnect") ||
		strings.HasPrefix(msg, "Failed to reload playlist") || strings.Contains(lower, "failed to open segment"):
		p.Kind = ProgressStall
	case strings.Contains(lower, "error") || strings.Contains(lower, "invalid") ||
		strings.Contains(lower, "already exists") || strings.Contains(lower, "no such file") ||
		strings.Contains(msg, "Server returned") || strings.Contains(lower, "could not") || strings.Contains(lower, "unable to"):
		p.Kind = ProgressError
	default:
		p.Kind = ProgressWarning
	}
	return p, true
}

// isProgressKey reports whether k is a key of ffmpeg's -progress output.
func isProgressKey(k string) bool {
	switch k {
	case "frame", "fps", "bitrate", "total_size", "out_time_us", "out_time_ms", "out_time",
		"dup_frames", "drop_frames", "speed", "progress":
		return true
	}
	return strings.HasPrefix(k, "stream_") && strings.HasSuffix(k, "_q")
}

func parseSize(num, unit string) float64 {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0
	}
	switch unit {
	case "KiB":
		f *= 1 << 10
	case "MiB":
		f *= 1 << 20
	case "GiB":
		f *= 1 << 30
	case "TiB":
		f *= 1 << 40
	}
	return f
}

// parseElapsed parses streamlink's "5s", "1m05s", "2h01m05s".
func parseElapsed(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0
	}
	return d
}
