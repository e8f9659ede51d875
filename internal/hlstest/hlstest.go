// Package hlstest serves a real, live HLS stream on 127.0.0.1 for tests.
//
// Start generates the whole stream upfront with ffmpeg (testsrc2 video and a
// sine tone, H.264 and AAC, cut into MPEG-TS segments), then serves it as a
// live sliding-window playlist: one more segment appears every segment
// duration of wall-clock time, EXT-X-MEDIA-SEQUENCE advances as old
// segments leave the window, and #EXT-X-ENDLIST appears after the last one
// (or when End is called). streamlink and ffmpeg record from it exactly as
// they record from a real broadcast.
//
// The package is for tests only; it fails the test (t.Fatal) when ffmpeg is
// missing or fails, because recording tests cannot mean anything without it.
package hlstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a Stream. Zero fields take the documented defaults.
type Options struct {
	// SegmentSeconds is the duration of each segment in seconds, and the
	// wall-clock interval between two new segments. Default 2.
	SegmentSeconds float64
	// Segments is how many segments the broadcast has. Default 4.
	Segments int
	// Window is how many segments the live playlist lists at once.
	// Default 5.
	Window int
	// Width and Height are the video size. Default 640x360.
	Width, Height int
	// Title and Category are the initial metadata (see Title, SetTitle).
	Title, Category string
	// Offline, when true, makes the stream start offline: the playlist
	// answers OfflineStatus until GoLive is called.
	Offline bool
	// OfflineStatus is the HTTP status of the playlist while offline.
	// Default 404.
	OfflineStatus int
}

// Metadata is what the stream's /meta.json answers, and what a provider
// test can poll for title and category changes.
type Metadata struct {
	Live     bool   `json:"live"`
	Title    string `json:"title"`
	Category string `json:"category"`
}

type segment struct {
	name     string
	duration float64
	data     []byte
}

// Stream is a live HLS stream served on 127.0.0.1. Its methods are safe
// for concurrent use.
type Stream struct {
	opts     Options
	srv      *httptest.Server
	segments []segment

	mu       sync.Mutex
	liveAt   time.Time // zero while offline before the start
	ended    bool
	endCount int // segments visible at the end
	offline  bool
	title    string
	category string
	served   int
	requests int
	waiters  []waiter
	timer    *time.Timer
	changed  chan struct{} // closed and replaced on each reveal or state change
}

type waiter struct {
	n  int
	ch chan struct{}
}

// Start generates the media and starts serving it; the stream is live at
// once unless o.Offline is set. The server stops when the test ends.
func Start(t testing.TB, o Options) *Stream {
	t.Helper()
	if o.SegmentSeconds <= 0 {
		o.SegmentSeconds = 2
	}
	if o.Segments <= 0 {
		o.Segments = 4
	}
	if o.Window <= 0 {
		o.Window = 5
	}
	if o.Width <= 0 || o.Height <= 0 {
		o.Width, o.Height = 640, 360
	}
	if o.OfflineStatus == 0 {
		o.OfflineStatus = http.StatusNotFound
	}
	segs, err := generate(t, o)
	if err != nil {
		t.Fatalf("hlstest: generate stream: %v", err)
	}
	s := &Stream{
		opts:     o,
		segments: segs,
		title:    o.Title,
		category: o.Category,
		offline:  o.Offline,
		changed:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /live.m3u8", s.servePlaylist)
	mux.HandleFunc("GET /seg/{name}", s.serveSegment)
	mux.HandleFunc("GET /meta.json", s.serveMeta)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.close)
	if !o.Offline {
		s.GoLive()
	}
	return s
}

// generate renders the whole broadcast with ffmpeg into a temp dir and
// reads the segments back, with the durations ffmpeg wrote.
func generate(t testing.TB, o Options) ([]segment, error) {
	dir := t.TempDir()
	const fps = 30
	total := o.SegmentSeconds * float64(o.Segments)
	seg := strconv.FormatFloat(o.SegmentSeconds, 'f', -1, 64)
	args := []string{
		"-nostdin", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", o.Width, o.Height, fps),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.FormatFloat(total, 'f', 3, 64),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-crf", "30",
		"-pix_fmt", "yuv420p",
		// A keyframe at every segment boundary, so segments have the
		// requested duration.
		"-force_key_frames", "expr:gte(t,n_forced*" + seg + ")", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k",
		"-f", "hls", "-hls_time", seg, "-hls_list_size", "0",
		"-hls_segment_filename", filepath.Join(dir, "seg%03d.ts"),
		filepath.Join(dir, "index.m3u8"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %w: %s", err, bytes.TrimSpace(out))
	}
	f, err := os.Open(filepath.Join(dir, "index.m3u8"))
	if err != nil {
		return nil, fmt.Errorf("open playlist: %w", err)
	}
	defer f.Close()
	var segs []segment
	var dur float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			if dur, err = strconv.ParseFloat(v, 64); err != nil {
				return nil, fmt.Errorf("parse %q: %w", line, err)
			}
		case line != "" && !strings.HasPrefix(line, "#"):
			data, err := os.ReadFile(filepath.Join(dir, line))
			if err != nil {
				return nil, fmt.Errorf("read segment: %w", err)
			}
			segs = append(segs, segment{name: line, duration: dur, data: data})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read playlist: %w", err)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("ffmpeg wrote no segments")
	}
	return segs, nil
}

// URL returns the address of the live playlist (…/live.m3u8).
func (s *Stream) URL() string { return s.srv.URL + "/live.m3u8" }

// MetaURL returns the address of the stream's metadata as JSON (Metadata).
func (s *Stream) MetaURL() string { return s.srv.URL + "/meta.json" }

// Duration returns the media duration of the whole broadcast: what a
// recording from the first segment to the end should last.
func (s *Stream) Duration() time.Duration {
	var d float64
	for _, seg := range s.segments {
		d += seg.duration
	}
	return time.Duration(d * float64(time.Second))
}

// Segments returns how many segments the broadcast has.
func (s *Stream) Segments() int { return len(s.segments) }

// GoLive starts the broadcast: the first segment is visible at once and
// one more appears every SegmentSeconds. Calling it on a live or ended
// stream does nothing.
func (s *Stream) GoLive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.liveAt.IsZero() {
		return
	}
	s.liveAt = time.Now()
	s.offline = false
	s.scheduleLocked()
	s.notifyLocked()
}

// End finishes the broadcast now: the playlist keeps the segments already
// visible and gets #EXT-X-ENDLIST. Ending an ended stream does nothing.
func (s *Stream) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.endCount = s.visibleLocked(time.Now())
	s.ended = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.notifyLocked()
}

// SetOffline makes the playlist answer OfflineStatus (true) or serve the
// stream again (false): how a platform looks once a broadcast is gone, or
// during an outage.
func (s *Stream) SetOffline(offline bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offline = offline
	s.notifyLocked()
}

// Title returns the current title.
func (s *Stream) Title() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.title
}

// SetTitle changes the title, as a streamer does mid-broadcast.
func (s *Stream) SetTitle(title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.title = title
}

// Category returns the current category.
func (s *Stream) Category() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.category
}

// SetCategory changes the category.
func (s *Stream) SetCategory(category string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.category = category
}

// Ended reports whether the playlist carries #EXT-X-ENDLIST.
func (s *Stream) Ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endedLocked(time.Now())
}

// Visible returns how many segments have been published so far.
func (s *Stream) Visible() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.visibleLocked(time.Now())
}

// Served returns how many segment requests were answered in full.
func (s *Stream) Served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

// PlaylistRequests returns how many times the playlist was requested,
// offline answers included.
func (s *Stream) PlaylistRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// WaitServed returns a channel closed once n segment requests have been
// answered in full (at once when that already happened).
func (s *Stream) WaitServed(n int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if s.served >= n {
		close(ch)
		return ch
	}
	s.waiters = append(s.waiters, waiter{n: n, ch: ch})
	return ch
}

// Changed returns a channel closed at the next change of the playlist (a
// new segment, the end, going live or offline). Take a new one after each.
func (s *Stream) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Stream) close() {
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// visibleLocked derives the published segments from the wall clock, so
// every request sees a consistent count without a background loop.
func (s *Stream) visibleLocked(now time.Time) int {
	if s.liveAt.IsZero() {
		return 0
	}
	if s.ended {
		return s.endCount
	}
	n := 1 + int(now.Sub(s.liveAt).Seconds()/s.opts.SegmentSeconds)
	return min(n, len(s.segments))
}

func (s *Stream) endedLocked(now time.Time) bool {
	return s.ended || (!s.liveAt.IsZero() && s.visibleLocked(now) == len(s.segments))
}

// scheduleLocked arms a timer for the next reveal, only to notify
// Changed waiters; the playlist itself is computed from the clock.
func (s *Stream) scheduleLocked() {
	now := time.Now()
	n := s.visibleLocked(now)
	if s.ended || n >= len(s.segments) {
		return
	}
	next := s.liveAt.Add(time.Duration(float64(n) * s.opts.SegmentSeconds * float64(time.Second)))
	s.timer = time.AfterFunc(next.Sub(now), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.notifyLocked()
		s.scheduleLocked()
	})
}

func (s *Stream) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Stream) servePlaylist(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	now := time.Now()
	if s.offline || s.liveAt.IsZero() {
		status := s.opts.OfflineStatus
		s.mu.Unlock()
		http.Error(w, "stream offline", status)
		return
	}
	visible := s.visibleLocked(now)
	ended := s.endedLocked(now)
	s.mu.Unlock()

	first := max(0, visible-s.opts.Window)
	target := 0.0
	for _, seg := range s.segments {
		target = math.Max(target, seg.duration)
	}
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", int(math.Ceil(target)))
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", first)
	for _, seg := range s.segments[first:visible] {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\nseg/%s\n", seg.duration, seg.name)
	}
	if ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(b.String()))
}

func (s *Stream) serveSegment(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	idx := -1
	for i, seg := range s.segments {
		if seg.name == name {
			idx = i
			break
		}
	}
	s.mu.Lock()
	visible := s.visibleLocked(time.Now())
	s.mu.Unlock()
	// A segment not yet published does not exist, as on a real origin.
	if idx < 0 || idx >= visible {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "video/mp2t")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.segments[idx].data)))
	if _, err := w.Write(s.segments[idx].data); err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served++
	kept := s.waiters[:0]
	for _, wt := range s.waiters {
		if s.served >= wt.n {
			close(wt.ch)
		} else {
			kept = append(kept, wt)
		}
	}
	s.waiters = kept
}

func (s *Stream) serveMeta(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := Metadata{
		Live:     !s.offline && !s.liveAt.IsZero() && !s.endedLocked(time.Now()),
		Title:    s.title,
		Category: s.category,
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}
