package record

import (
	"fmt"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/media"
)

// CaptureLogName is the log file, in the VOD folder, that every part of a
// capture appends its process output to.
const CaptureLogName = "capture.log"

// PartName returns the file name of capture part n (from 1) of a VOD:
// <basename>.part001.ts. Part numbers only grow, so a restarted capture
// never writes over an earlier part.
func PartName(basename string, n int) string {
	return fmt.Sprintf("%s.part%03d.ts", basename, n)
}

// windowStartLiveEdge asks streamlink to start this many segments back from
// the live edge: more than any live playlist lists, i.e. its oldest segment.
const windowStartLiveEdge = 99

// captureBackend turns a channel and an output file into a supervised
// command, and reads its output lines as progress. A backend is stateless;
// progress state lives in the caller.
type captureBackend interface {
	// name is "streamlink" or "ffmpeg", as in the channel's backend setting.
	name() string
	// cmd returns the command that records ch to output (MPEG-TS). The
	// first part starts at the oldest segment the live playlist still
	// lists, so a broadcast detected late loses as little as possible; a
	// restarted part starts at the live edge, so it repeats nothing the
	// previous part recorded.
	cmd(ch dvr.Channel, output string, first bool) (media.Cmd, error)
	// parse folds one output line into prev.
	parse(line string, prev media.Progress) (media.Progress, bool)
}

// streamlinkBackend records with streamlink, which handles platform
// plugins (and plain HLS).
type streamlinkBackend struct {
	path       string
	version    media.StreamlinkVersion
	ffmpegPath string
	timeout    time.Duration
}

func (b *streamlinkBackend) name() string { return BackendStreamlink }

func (b *streamlinkBackend) cmd(ch dvr.Channel, output string, first bool) (media.Cmd, error) {
	liveEdge := 0 // the tool's default
	if first {
		// streamlink clamps the live edge to the playlist's length.
		liveEdge = windowStartLiveEdge
	}
	args, err := media.StreamlinkCaptureArgs(b.version, media.CaptureOptions{
		LiveEdge:      liveEdge,
		URL:           ch.URL,
		Quality:       ch.Quality,
		Output:        output,
		FFmpegPath:    b.ffmpegPath,
		StreamTimeout: b.timeout,
		// Debug logs each segment, which is how progress counts them.
		Debug: true,
	})
	if err != nil {
		return media.Cmd{}, err
	}
	return media.Cmd{Path: b.path, Args: args, MustNotExist: []string{output}}, nil
}

func (b *streamlinkBackend) parse(line string, prev media.Progress) (media.Progress, bool) {
	p, ok := media.ParseStreamlinkProgress(line)
	if !ok {
		return prev, false
	}
	// Keep the counters the line does not carry.
	switch p.Kind {
	case media.ProgressWritten:
		p.Segment = prev.Segment
	case media.ProgressSegment:
		p.Bytes, p.Elapsed = prev.Bytes, prev.Elapsed
	default:
		p.Bytes, p.Segment, p.Elapsed = prev.Bytes, prev.Segment, prev.Elapsed
	}
	return p, true
}

// ffmpegBackend records an HLS playlist with ffmpeg, without re-encoding.
// It ignores the quality preference: ffmpeg keeps the best video and audio
// of a master playlist.
type ffmpegBackend struct {
	path    string
	timeout time.Duration
}

func (b *ffmpegBackend) name() string { return BackendFFmpeg }

func (b *ffmpegBackend) cmd(ch dvr.Channel, output string, first bool) (media.Cmd, error) {
	args, err := media.FFmpegCaptureArgs(media.FFmpegCaptureOptions{URL: ch.URL, Output: output, IOTimeout: b.timeout, FromWindowStart: first})
	if err != nil {
		return media.Cmd{}, err
	}
	return media.Cmd{Path: b.path, Args: args, MustNotExist: []string{output}}, nil
}

func (b *ffmpegBackend) parse(line string, prev media.Progress) (media.Progress, bool) {
	return media.ParseFFmpegProgress(line, prev)
}

// chooseBackend picks the capture tool for a channel: its backend setting,
// or streamlink when installed and ffmpeg otherwise for "auto". A tool that
// is missing is EUNAVAILABLE.
func chooseBackend(ch dvr.Channel, tools media.Tools, streamTimeout time.Duration) (captureBackend, error) {
	sl := func() captureBackend {
		return &streamlinkBackend{path: tools.Streamlink.Path, version: tools.Streamlink.Version,
			ffmpegPath: tools.FFmpeg.Path, timeout: streamTimeout}
	}
	ff := func() captureBackend { return &ffmpegBackend{path: tools.FFmpeg.Path, timeout: streamTimeout} }
	switch ch.Backend {
	case BackendStreamlink:
		if !tools.Streamlink.Found {
			return nil, dvr.Errorf(dvr.EUNAVAILABLE, "channel %s records with streamlink, which is not available: %s", ch.Name, tools.Streamlink.Error)
		}
		return sl(), nil
	case BackendFFmpeg:
		if !tools.FFmpeg.Found {
			return nil, dvr.Errorf(dvr.EUNAVAILABLE, "channel %s records with ffmpeg, which is not available: %s", ch.Name, tools.FFmpeg.Error)
		}
		return ff(), nil
	}
	switch {
	case tools.Streamlink.Found:
		return sl(), nil
	case tools.FFmpeg.Found:
		return ff(), nil
	}
	return nil, dvr.Errorf(dvr.EUNAVAILABLE, "%s", disabledMessage(tools))
}

// disabledMessage says why nothing can be recorded.
func disabledMessage(tools media.Tools) string {
	return fmt.Sprintf("recording is disabled: neither streamlink nor ffmpeg is available (%s; %s)",
		tools.Streamlink.Error, tools.FFmpeg.Error)
}

// progressText renders capture progress for job_progress, e.g.
// "12.3 MB, 42 segments, part 2".
func progressText(bytes int64, p media.Progress, part int) string {
	parts := []string{formatBytes(bytes)}
	if p.Segment > 0 {
		parts = append(parts, fmt.Sprintf("%d segments", p.Segment))
	}
	if p.OutTime > 0 {
		parts = append(parts, p.OutTime.Truncate(time.Second).String())
	}
	if part > 1 {
		parts = append(parts, fmt.Sprintf("part %d", part))
	}
	return strings.Join(parts, ", ")
}

// formatBytes renders a size in decimal units, as file managers do.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// progressLogEvery is how often a capture's progress reaches its log.
const progressLogEvery = 30 * time.Second

// progressLog thins progress lines in a capture log: streamlink prints one
// four times a second (plus one per segment at debug level) and ffmpeg a
// block of a dozen key=value lines twice a second, which over a fifty-hour
// broadcast would bury the lines that matter. Other lines are all kept; a
// kept ffmpeg block is kept whole, up to its progress= line.
type progressLog struct {
	every   time.Duration
	now     func() time.Time
	last    time.Time
	inBlock bool
}

func newProgressLog(now func() time.Time) *progressLog {
	return &progressLog{every: progressLogEvery, now: now}
}

// keep reports whether line goes to the log.
func (f *progressLog) keep(_, line string) bool {
	ffmpegKey := isFFmpegProgressLine(line)
	if !ffmpegKey {
		if p, ok := media.ParseStreamlinkProgress(line); !ok || (p.Kind != media.ProgressWritten && p.Kind != media.ProgressSegment) {
			return true
		}
	}
	if f.inBlock {
		f.inBlock = !strings.HasPrefix(line, "progress=")
		return true
	}
	if now := f.now(); f.last.IsZero() || now.Sub(f.last) >= f.every {
		f.last = now
		f.inBlock = ffmpegKey && !strings.HasPrefix(line, "progress=")
		return true
	}
	return false
}

// isFFmpegProgressLine reports whether line is one key=value line of
// ffmpeg's -progress output (frame=120, out_time=00:00:04.000000, ...).
func isFFmpegProgressLine(line string) bool {
	key, _, ok := strings.Cut(line, "=")
	if !ok || key == "" || strings.ContainsRune(line, ' ') {
		return false
	}
	for _, c := range key {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
