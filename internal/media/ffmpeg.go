package media

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// Defaults of FFmpegCaptureOptions.
const (
	DefaultReconnectDelayMax = 30 * time.Second
	DefaultIOTimeout         = 30 * time.Second
	DefaultHoldReloads       = 30
)

// commonFFmpeg returns the flags every ffmpeg run gets: no stdin (a stray
// read would stop the process), warnings only on stderr, and
// machine-readable progress as key=value blocks on stdout (see
// ParseFFmpegProgress).
func commonFFmpeg() []string {
	return []string{"-nostdin", "-hide_banner", "-loglevel", "warning", "-nostats", "-progress", "pipe:1"}
}

// FFmpegCaptureOptions configure an ffmpeg capture of an HLS URL to
// MPEG-TS, without re-encoding.
type FFmpegCaptureOptions struct {
	// URL of the HLS playlist. Required.
	URL string
	// Output is the MPEG-TS file to write. Required; ffmpeg runs with -n
	// and never overwrites it.
	Output string
	// UserAgent replaces ffmpeg's User-Agent when set.
	UserAgent string
	// Headers are sent with every HTTP request.
	Headers []Header
	// ReconnectDelayMax is how long ffmpeg keeps reconnecting a dropped
	// HTTP connection. Default 30 s.
	ReconnectDelayMax time.Duration
	// IOTimeout fails a read that gets no data for that long (-rw_timeout).
	// Default 30 s.
	IOTimeout time.Duration
	// HoldReloads is how many playlist reloads without a new segment
	// ffmpeg accepts before it treats the stream as ended
	// (-m3u8_hold_counters). Default 30; ffmpeg's own default (1000)
	// would keep a dead capture open for half an hour.
	HoldReloads int
	// FromWindowStart starts at the oldest segment of the live playlist
	// (-live_start_index 0) instead of 3 segments from its end: a capture
	// that starts late, or restarts after a drop, keeps what the window
	// still holds.
	FromWindowStart bool
}

// FFmpegCaptureArgs returns the argv (without the executable) that copies
// the HLS stream at o.URL into o.Output as MPEG-TS: the format that stays
// playable up to the last byte when the capture is cut. Errors are EINVALID
// naming the field.
func FFmpegCaptureArgs(o FFmpegCaptureOptions) ([]string, error) {
	if err := checkArg("url", o.URL); err != nil {
		return nil, err
	}
	if err := checkArg("output", o.Output); err != nil {
		return nil, err
	}
	if o.ReconnectDelayMax <= 0 {
		o.ReconnectDelayMax = DefaultReconnectDelayMax
	}
	if o.IOTimeout <= 0 {
		o.IOTimeout = DefaultIOTimeout
	}
	if o.HoldReloads <= 0 {
		o.HoldReloads = DefaultHoldReloads
	}
	args := commonFFmpeg()
	if o.UserAgent != "" {
		if strings.ContainsAny(o.UserAgent, "\x00\r\n") {
			return nil, dvr.Errorf(dvr.EINVALID, "user_agent must not contain control characters")
		}
		args = append(args, "-user_agent", o.UserAgent)
	}
	if len(o.Headers) > 0 {
		var b strings.Builder
		for _, h := range o.Headers {
			if h.Key == "" || strings.ContainsAny(h.Key, ":\x00\r\n ") {
				return nil, dvr.Errorf(dvr.EINVALID, "headers: invalid header name %q", h.Key)
			}
			if strings.ContainsAny(h.Value, "\x00\r\n") {
				return nil, dvr.Errorf(dvr.EINVALID, "headers: value of %s must not contain control characters", h.Key)
			}
			fmt.Fprintf(&b, "%s: %s\r\n", h.Key, h.Value)
		}
		args = append(args, "-headers", b.String())
	}
	args = append(args,
		"-reconnect", "1",
		"-reconnect_streamed", "1",
		"-reconnect_delay_max", strconv.Itoa(int(o.ReconnectDelayMax.Round(time.Second).Seconds())),
		"-rw_timeout", strconv.FormatInt(o.IOTimeout.Microseconds(), 10),
		"-m3u8_hold_counters", strconv.Itoa(o.HoldReloads),
	)
	if o.FromWindowStart {
		args = append(args, "-live_start_index", "0")
	}
	args = append(args,
		"-i", o.URL,
		"-c", "copy",
		"-f", "mpegts",
		"-n", o.Output,
	)
	return args, nil
}

// RemuxOptions configure the conversion of a capture's MPEG-TS parts into
// one MP4.
type RemuxOptions struct {
	// List is the path of the concat list naming the parts in order; write
	// it with ConcatList. Required.
	List string
	// Chapters is the path of an FFMETADATA file (see FFMetadata); empty
	// means no chapters.
	Chapters string
	// Output is where the MP4 is written: a temporary name the caller
	// renames once ffprobe has verified it. It is muxed as MP4 whatever its
	// extension, and never overwritten. Required.
	Output string
}

// RemuxArgs returns the argv (without the executable) that joins the parts
// listed in o.List into one MP4 without re-encoding, with the chapters of
// o.Chapters and the index at the front (+faststart) so players can start
// before the download ends. Errors are EINVALID naming the field.
//
// The parts are joined with the concat demuxer rather than the concat:
// protocol. Parts of one capture share codecs, but each part comes from a
// new streamlink or ffmpeg process, so its timestamps restart; the demuxer
// shifts each part to follow the previous one, where the protocol would
// splice raw bytes with jumping timestamps. A list file also has no argv
// length limit and no '|' separator to escape.
func RemuxArgs(o RemuxOptions) ([]string, error) {
	if err := checkArg("list", o.List); err != nil {
		return nil, err
	}
	if err := checkArg("output", o.Output); err != nil {
		return nil, err
	}
	args := commonFFmpeg()
	// +discardcorrupt: a capture process killed mid-write leaves its part
	// ending in a cut-off packet; kept, a cut-off AAC frame makes the MP4
	// muxer fail ("Input packet too small") and with it the whole remux.
	// Dropping flagged packets loses at most the last frame of such a part.
	// -safe 0: the list holds absolute paths, which lsdvr itself wrote.
	args = append(args, "-fflags", "+discardcorrupt", "-f", "concat", "-safe", "0", "-i", o.List)
	if o.Chapters != "" {
		if err := checkArg("chapters", o.Chapters); err != nil {
			return nil, err
		}
		args = append(args, "-f", "ffmetadata", "-i", o.Chapters)
	}
	// Only audio and video: MP4 cannot hold the timed-ID3 data streams
	// that platforms put in MPEG-TS.
	args = append(args, "-map", "0:v?", "-map", "0:a?")
	if o.Chapters != "" {
		args = append(args, "-map_metadata", "1", "-map_chapters", "1")
	}
	return append(args,
		"-c", "copy",
		"-movflags", "+faststart",
		"-f", "mp4",
		"-n", o.Output,
	), nil
}

// ConcatList returns the content of an ffconcat list file naming parts in
// order, for RemuxOptions.List. Paths should be absolute; quotes and
// backslashes in them are escaped. It fails (EINVALID) on an empty list or
// a path with a newline, which the format cannot express.
func ConcatList(parts []string) (string, error) {
	if len(parts) == 0 {
		return "", dvr.Errorf(dvr.EINVALID, "parts: at least one part is required")
	}
	var b strings.Builder
	b.WriteString("ffconcat version 1.0\n")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "\x00\r\n") {
			return "", dvr.Errorf(dvr.EINVALID, "parts: invalid path %q", p)
		}
		// Inside single quotes only the quote itself needs care: close
		// the quote, add an escaped quote, reopen.
		fmt.Fprintf(&b, "file '%s'\n", strings.ReplaceAll(p, "'", `'\''`))
	}
	return b.String(), nil
}
