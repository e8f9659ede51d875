package media

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// MinStreamlink is the oldest streamlink the builders support (Debian 12
// ships 5.2.1); older releases are untested with the flags we pass.
const MinStreamlink = "5.0.0"

// Header is one HTTP request header (or a key=value parameter), kept as a
// list so the argv order is the caller's.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TwitchOptions are streamlink's Twitch plugin options; zero values pass
// nothing.
type TwitchOptions struct {
	// DisableAds filters out embedded ads. Passed only to streamlink before
	// 7.5, where it was optional; from 7.5 on ads are always filtered.
	DisableAds bool
	// DisableReruns refuses to record a rerun.
	DisableReruns bool
	// LowLatency prefetches segments (lower delay, more requests).
	LowLatency bool
	// APIHeaders are sent with Twitch API calls, e.g. Authorization for a
	// subscriber's OAuth token (--twitch-api-header).
	APIHeaders []Header
}

// CaptureOptions configure a streamlink capture to a file. Durations are
// passed in seconds; zero fields are omitted so streamlink's defaults apply.
type CaptureOptions struct {
	// URL of the channel or stream. Required.
	URL string
	// Quality is a stream name or a comma-separated preference list, e.g.
	// "720p60,720p,best". Default "best".
	Quality string
	// Output is the file to write (MPEG-TS). Required. streamlink gets no
	// --force: it never overwrites, and Run refuses an existing path.
	Output string
	// FFmpegPath is the ffmpeg streamlink uses to mux separate audio and
	// video streams (--ffmpeg-ffmpeg); empty lets streamlink look it up.
	FFmpegPath string
	// Headers are sent with every HTTP request (--http-header).
	Headers []Header
	// StreamTimeout ends the capture when no data arrives for that long
	// (--stream-timeout; streamlink's default is 60 s).
	StreamTimeout time.Duration
	// RetryStreams waits for an offline stream, retrying every interval
	// (--retry-streams); RetryMax bounds the attempts (--retry-max).
	RetryStreams time.Duration
	RetryMax     int
	// RetryOpen is how many times to try opening the stream (--retry-open).
	RetryOpen int
	// SegmentThreads downloads segments in parallel (1-10,
	// --stream-segment-threads).
	SegmentThreads int
	// SegmentAttempts and SegmentTimeout bound each segment download
	// (--stream-segment-attempts, --stream-segment-timeout).
	SegmentAttempts int
	SegmentTimeout  time.Duration
	// LiveEdge is how many segments from the live edge to start
	// (--hls-live-edge; default 3).
	LiveEdge int
	// Debug logs every segment (--loglevel debug instead of info), which
	// ParseStreamlinkProgress reports as ProgressSegment.
	Debug bool
	// Twitch holds the Twitch plugin options.
	Twitch TwitchOptions
}

// StreamlinkCaptureArgs returns the argv (without the executable) that
// records o.URL to o.Output with streamlink version v. Errors are EINVALID
// for a missing or unsafe field (named in the message) and EUNAVAILABLE for
// a streamlink older than MinStreamlink.
func StreamlinkCaptureArgs(v StreamlinkVersion, o CaptureOptions) ([]string, error) {
	if err := checkStreamlink(v); err != nil {
		return nil, err
	}
	if o.Quality == "" {
		o.Quality = "best"
	}
	if err := checkArg("url", o.URL); err != nil {
		return nil, err
	}
	if err := checkArg("quality", o.Quality); err != nil {
		return nil, err
	}
	if strings.ContainsAny(o.Quality, " \t") {
		return nil, dvr.Errorf(dvr.EINVALID, "quality %q must be a comma-separated list without spaces", o.Quality)
	}
	if err := checkArg("output", o.Output); err != nil {
		return nil, err
	}
	if o.SegmentThreads < 0 || o.SegmentThreads > 10 {
		return nil, dvr.Errorf(dvr.EINVALID, "segment_threads must be between 1 and 10, got %d", o.SegmentThreads)
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"retry_max", o.RetryMax}, {"retry_open", o.RetryOpen}, {"segment_attempts", o.SegmentAttempts}, {"live_edge", o.LiveEdge}} {
		if n.v < 0 {
			return nil, dvr.Errorf(dvr.EINVALID, "%s must not be negative, got %d", n.name, n.v)
		}
	}

	level := "info"
	if o.Debug {
		level = "debug"
	}
	args := []string{"--loglevel", level}
	// Progress goes to stderr only on a terminal unless forced.
	if v.AtLeast(5, 4, 0) {
		args = append(args, "--progress=force")
	} else {
		args = append(args, "--force-progress")
	}
	args = append(args, "--output", o.Output)
	if o.FFmpegPath != "" {
		args = append(args, "--ffmpeg-ffmpeg", o.FFmpegPath)
	}
	args = appendSeconds(args, "--stream-timeout", o.StreamTimeout)
	args = appendSeconds(args, "--retry-streams", o.RetryStreams)
	args = appendInt(args, "--retry-max", o.RetryMax)
	args = appendInt(args, "--retry-open", o.RetryOpen)
	args = appendInt(args, "--stream-segment-threads", o.SegmentThreads)
	args = appendInt(args, "--stream-segment-attempts", o.SegmentAttempts)
	args = appendSeconds(args, "--stream-segment-timeout", o.SegmentTimeout)
	args = appendInt(args, "--hls-live-edge", o.LiveEdge)
	var err error
	if args, err = appendHeaders(args, "--http-header", "headers", o.Headers); err != nil {
		return nil, err
	}
	if o.Twitch.DisableAds && !v.AtLeast(7, 5, 0) {
		args = append(args, "--twitch-disable-ads")
	}
	if o.Twitch.DisableReruns {
		args = append(args, "--twitch-disable-reruns")
	}
	if o.Twitch.LowLatency {
		args = append(args, "--twitch-low-latency")
	}
	if args, err = appendHeaders(args, "--twitch-api-header", "twitch.api_headers", o.Twitch.APIHeaders); err != nil {
		return nil, err
	}
	return append(args, o.URL, o.Quality), nil
}

// StreamlinkJSONArgs returns the argv of `streamlink --json URL`, which
// lists the available streams and the plugin's metadata without recording:
// the liveness probe. Parse its stdout with ParseStreamlinkJSON. headers
// are sent with every request, as for a capture.
func StreamlinkJSONArgs(v StreamlinkVersion, url string, headers ...Header) ([]string, error) {
	if err := checkStreamlink(v); err != nil {
		return nil, err
	}
	if err := checkArg("url", url); err != nil {
		return nil, err
	}
	args, err := appendHeaders([]string{"--json"}, "--http-header", "headers", headers)
	if err != nil {
		return nil, err
	}
	return append(args, url), nil
}

// StreamInfo is what `streamlink --json URL` says about a URL.
type StreamInfo struct {
	// Live is true when streamlink found at least one playable stream.
	Live bool `json:"live"`
	// Plugin is the streamlink plugin that handled the URL (twitch, hls...).
	Plugin string `json:"plugin,omitempty"`
	// Qualities are the stream names in streamlink's order (worst to best,
	// then the worst/best aliases), e.g. ["360p", "720p", "worst", "best"].
	Qualities []string `json:"qualities,omitempty"`
	// ID, Author, Category and Title are the plugin's metadata, empty
	// when the plugin does not provide them.
	ID       string `json:"id,omitempty"`
	Author   string `json:"author,omitempty"`
	Category string `json:"category,omitempty"`
	Title    string `json:"title,omitempty"`
	// Reason is streamlink's message when the stream is not live.
	Reason string `json:"reason,omitempty"`
}

// ParseStreamlinkJSON parses the stdout of `streamlink --json URL`.
// Streams mean live; an error saying there is no playable stream (or a 404
// or 410 for the playlist) means offline, with Live false and Reason set.
// Any other error message is returned as an EINVALID *dvr.Error when no
// plugin handles the URL, else as EUNAVAILABLE; malformed output is a
// plain error saying what was wrong.
func ParseStreamlinkJSON(data []byte) (StreamInfo, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return StreamInfo{}, fmt.Errorf("parse streamlink json: empty output")
	}
	var doc struct {
		Plugin   string                     `json:"plugin"`
		Metadata map[string]json.RawMessage `json:"metadata"`
		Streams  json.RawMessage            `json:"streams"`
		Error    *string                    `json:"error"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return StreamInfo{}, fmt.Errorf("parse streamlink json: %w", err)
	}
	if doc.Error != nil {
		msg := strings.TrimSpace(*doc.Error)
		switch {
		case strings.HasPrefix(msg, "No playable streams found"),
			strings.HasPrefix(msg, "Unable to open URL") && (strings.Contains(msg, "(404 ") || strings.Contains(msg, "(410 ")):
			return StreamInfo{Live: false, Reason: msg}, nil
		case strings.HasPrefix(msg, "No plugin can handle URL"):
			return StreamInfo{}, dvr.Errorf(dvr.EINVALID, "streamlink: %s", msg)
		default:
			return StreamInfo{}, dvr.Errorf(dvr.EUNAVAILABLE, "streamlink: %s", msg)
		}
	}
	if doc.Streams == nil {
		return StreamInfo{}, fmt.Errorf("parse streamlink json: neither \"streams\" nor \"error\" in output")
	}
	names, err := objectKeys(doc.Streams)
	if err != nil {
		return StreamInfo{}, fmt.Errorf("parse streamlink json: streams: %w", err)
	}
	info := StreamInfo{Live: len(names) > 0, Plugin: doc.Plugin, Qualities: names}
	if !info.Live {
		info.Reason = "no streams listed"
	}
	for key, dst := range map[string]*string{"id": &info.ID, "author": &info.Author, "category": &info.Category, "title": &info.Title} {
		raw, ok := doc.Metadata[key]
		if !ok {
			continue
		}
		s, err := scalarString(raw)
		if err != nil {
			return StreamInfo{}, fmt.Errorf("parse streamlink json: metadata.%s: %w", key, err)
		}
		*dst = s
	}
	return info, nil
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want an object, got %v", tok)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// scalarString renders a JSON string, number or null as a string.
func scalarString(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("want a string, got %s", raw)
}

func checkStreamlink(v StreamlinkVersion) error {
	if v.Known() && !v.AtLeast(5, 0, 0) {
		return dvr.Errorf(dvr.EUNAVAILABLE, "streamlink %s is too old: lsdvr needs %s or newer", v, MinStreamlink)
	}
	return nil
}

// checkArg rejects an empty value and one that a tool would read as a flag.
func checkArg(field, v string) error {
	switch {
	case v == "":
		return dvr.Errorf(dvr.EINVALID, "%s is required", field)
	case strings.HasPrefix(v, "-"):
		return dvr.Errorf(dvr.EINVALID, "%s %q must not start with '-'", field, v)
	case strings.ContainsAny(v, "\x00\r\n"):
		return dvr.Errorf(dvr.EINVALID, "%s must not contain control characters", field)
	}
	return nil
}

func appendHeaders(args []string, flag, field string, hs []Header) ([]string, error) {
	for _, h := range hs {
		if h.Key == "" || strings.ContainsAny(h.Key, "=:\x00\r\n ") {
			return nil, dvr.Errorf(dvr.EINVALID, "%s: invalid header name %q", field, h.Key)
		}
		if strings.ContainsAny(h.Value, "\x00\r\n") {
			return nil, dvr.Errorf(dvr.EINVALID, "%s: value of %s must not contain control characters", field, h.Key)
		}
		args = append(args, flag, h.Key+"="+h.Value)
	}
	return args, nil
}

func appendInt(args []string, flag string, n int) []string {
	if n <= 0 {
		return args
	}
	return append(args, flag, strconv.Itoa(n))
}

func appendSeconds(args []string, flag string, d time.Duration) []string {
	if d <= 0 {
		return args
	}
	return append(args, flag, seconds(d))
}

// seconds formats d as decimal seconds, the unit every tool takes: "60", "2.5".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
