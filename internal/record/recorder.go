package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/media"
)

// Defaults of RecorderConfig.
const (
	DefaultMetadataInterval = 30 * time.Second
	DefaultStartJitter      = 5 * time.Second
	DefaultRescanInterval   = 10 * time.Second
	DefaultMaxFailedParts   = 5
	DefaultMinFreeBytes     = 1 << 30
	// finalizeTimeout bounds the database work that ends a capture, which
	// runs even when the capture's own context was cancelled.
	finalizeTimeout = 30 * time.Second
)

// defaultRestartBackoff returns the default RecorderConfig.RestartBackoff.
func defaultRestartBackoff() []time.Duration {
	return []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second}
}

// Causes of a capture's end, carried by its context.
var (
	errShutdown       = errors.New("lsdvr is stopping")
	errCaptureStopped = errors.New("capture cancelled")
	errDiskFull       = errors.New("disk full")
)

// RecorderConfig configures a Recorder. Zero fields take the defaults noted
// on each.
type RecorderConfig struct {
	// StorageDir is the folder VODs are written under. Default the
	// Library's storage folder.
	StorageDir string
	// MetadataInterval is how often a channel being captured is probed for
	// title and category changes (a new chapter each) and the free disk
	// space is checked. Default 30 s, and never longer than the channel's
	// poll interval.
	MetadataInterval time.Duration
	// StartJitter is the longest random delay before the first probe of
	// each channel, so a restart does not probe every channel at once.
	// Default 5 s.
	StartJitter time.Duration
	// RescanInterval is how often the channel list is read to start
	// watching new or re-enabled channels. Default 10 s.
	RescanInterval time.Duration
	// RestartBackoff are the delays before restarting a capture that
	// dropped while the channel is still live: the first after a part that
	// recorded something, the next ones after each part in a row that
	// recorded nothing; the last one repeats. Default 1 s, 2 s, 5 s, 10 s,
	// 30 s.
	RestartBackoff []time.Duration
	// MaxFailedParts is how many parts in a row may record nothing before
	// the capture is given up as failing. Default 5.
	MaxFailedParts int
	// MinFreeBytes is the free space, in bytes, below which a capture is
	// stopped (and none is started) and a critical alert is published.
	// Default 1 GiB.
	MinFreeBytes uint64
	// StopGrace is how long a capture process gets to exit after SIGTERM
	// before it is killed. Default media.DefaultGrace (10 s).
	StopGrace time.Duration
	// StreamTimeout ends a capture process that receives no data for that
	// long. Default the tool's (60 s for streamlink, 30 s for ffmpeg).
	StreamTimeout time.Duration
	// ProbeTimeout bounds one liveness probe. Default DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// HTTPClient fetches playlists for plain HLS channels. Default
	// http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock of capture starts and chapters. Default time.Now.
	Now func() time.Time
	// Prober, when set, probes every channel instead of the built-in
	// choice (a playlist GET for .m3u8 URLs, `streamlink --json`
	// otherwise).
	Prober Prober
	// FreeBytesFunc returns the free bytes of the file system holding
	// path. Default media.FreeBytes.
	FreeBytesFunc func(path string) (uint64, error)
}

// Recorder is the automator's first half: it watches enabled channels,
// records each broadcast the moment it is live, restarts captures that
// drop, follows title changes as chapters, and hands finished captures to
// conversion (the record.convert_vod job). It is safe for concurrent use.
//
// Event order for one broadcast: channel_updated (is_live true), notify
// (category live), vod_updated (the new VOD), start_download,
// start_capture, chapter_update (first chapter, then one per title or
// category change), the capture's job_* events, end_capture, then, from
// the conversion, start_convert, end_convert, vod_updated and
// end_download. The channel goes offline (channel_updated with is_live
// false) as soon as the capture ends because the stream did, so usually
// before the conversion's events.
type Recorder struct {
	cfg    RecorderConfig
	lib    *Library
	bus    *event.Bus
	jobs   *job.Service
	tools  media.Tools
	logger *slog.Logger

	playlist   *PlaylistProber
	streamlink *StreamlinkProber // nil without streamlink

	mu       sync.Mutex
	runCtx   context.Context // set by Start
	stop     context.CancelCauseFunc
	stopping bool
	sessions map[int64]*session           // by channel id
	watchers map[int64]context.CancelFunc // by channel id
	// held channels were cancelled by a person: they are not recorded
	// again until they have been seen offline.
	held    map[int64]bool
	diskLow bool // a low-disk alert is out; reset once space is back
	wg      sync.WaitGroup
}

// session is one broadcast being recorded.
type session struct {
	ch      dvr.Channel
	vod     dvr.VOD // zero while the session is only reserved
	backend captureBackend
	cancel  context.CancelCauseFunc
}

// NewRecorder returns a Recorder that is not started. tools is what
// media.FindTools found; with neither streamlink nor ffmpeg the Recorder
// works but records nothing (Start logs it, RecordNow is EUNAVAILABLE).
// jobs runs the conversions; the record.convert_vod worker must be
// registered on it. logger nil means slog.Default().
func NewRecorder(cfg RecorderConfig, lib *Library, bus *event.Bus, jobs *job.Service, tools media.Tools, logger *slog.Logger) (*Recorder, error) {
	if lib == nil || bus == nil || jobs == nil {
		return nil, errors.New("new recorder: library, bus and job service are required")
	}
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.StorageDir == "" {
		cfg.StorageDir = lib.StorageDir()
	}
	if cfg.MetadataInterval <= 0 {
		cfg.MetadataInterval = DefaultMetadataInterval
	}
	if cfg.StartJitter <= 0 {
		cfg.StartJitter = DefaultStartJitter
	}
	if cfg.RescanInterval <= 0 {
		cfg.RescanInterval = DefaultRescanInterval
	}
	if len(cfg.RestartBackoff) == 0 {
		cfg.RestartBackoff = defaultRestartBackoff()
	}
	for i, d := range cfg.RestartBackoff {
		if d <= 0 {
			return nil, dvr.Errorf(dvr.EINVALID, "restart backoff %d must be positive, got %s", i, d)
		}
	}
	if cfg.MaxFailedParts <= 0 {
		cfg.MaxFailedParts = DefaultMaxFailedParts
	}
	if cfg.MinFreeBytes == 0 {
		cfg.MinFreeBytes = DefaultMinFreeBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FreeBytesFunc == nil {
		cfg.FreeBytesFunc = media.FreeBytes
	}
	r := &Recorder{
		cfg: cfg, lib: lib, bus: bus, jobs: jobs, tools: tools,
		logger:   logger,
		playlist: &PlaylistProber{Client: cfg.HTTPClient, Timeout: cfg.ProbeTimeout},
		sessions: make(map[int64]*session),
		watchers: make(map[int64]context.CancelFunc),
		held:     make(map[int64]bool),
	}
	if tools.Streamlink.Found {
		r.streamlink = &StreamlinkProber{Path: tools.Streamlink.Path, Version: tools.Streamlink.Version, Timeout: cfg.ProbeTimeout}
	}
	return r, nil
}

// Enabled reports whether a capture tool (streamlink or ffmpeg) is
// available.
func (r *Recorder) Enabled() bool { return r.tools.Streamlink.Found || r.tools.FFmpeg.Found }

// Start begins watching: every enabled channel is probed at once (after a
// small random delay) and then every poll interval, and recorded while
// live. ctx bounds the start only. Without a capture tool Start logs that
// recording is disabled and watches nothing. Starting twice, or after
// Stop, is EINVALID.
func (r *Recorder) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopping:
		return dvr.Errorf(dvr.EINVALID, "recorder already stopped")
	case r.runCtx != nil:
		return dvr.Errorf(dvr.EINVALID, "recorder already started")
	}
	runCtx, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	r.runCtx, r.stop = runCtx, stop
	if !r.Enabled() {
		r.logger.Error(disabledMessage(r.tools) + "; install streamlink or ffmpeg and restart lsdvr")
		return nil
	}
	if r.tools.Streamlink.Found {
		r.logger.Info("recording enabled", "streamlink", r.tools.Streamlink.Version.String(), "ffmpeg", r.tools.FFmpeg.Version.String())
	} else {
		r.logger.Warn("streamlink not found: channels record with ffmpeg, and only plain HLS (.m3u8) URLs can be watched",
			"ffmpeg", r.tools.FFmpeg.Version.String())
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.watchLoop(runCtx)
	}()
	return nil
}

// Stop stops watching and stops every capture (SIGTERM, then SIGKILL after
// StopGrace), waiting for them within ctx. A capture stopped this way is
// not finished: its VOD stays "capturing", with its parts on disk, so that
// recovery at the next start converts it as interrupted; finishing it here
// would race the shutdown of the database and the job queue. Stop is safe
// to call twice, and before Start. It returns ctx's error when the wait
// was cut short.
func (r *Recorder) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopping = true
	if r.stop != nil {
		r.stop(errShutdown)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop recorder: %w", ctx.Err())
	}
}

// RecordNow probes a channel at once and starts recording it if live,
// returning the new VOD (status capturing). Errors: ENOTFOUND (channel),
// ECONFLICT when it is already being recorded or is offline ("channel is
// offline"), EUNAVAILABLE when recording is disabled, the disk is full
// (below MinFreeBytes) or the Recorder is not running, and the probe's
// error when the probe failed.
func (r *Recorder) RecordNow(ctx context.Context, channelID int64) (dvr.VOD, error) {
	if !r.Enabled() {
		return dvr.VOD{}, dvr.Errorf(dvr.EUNAVAILABLE, "%s", disabledMessage(r.tools))
	}
	ch, err := r.lib.GetChannel(ctx, channelID)
	if err != nil {
		return dvr.VOD{}, err
	}
	if low, free := r.checkDisk(); low {
		return dvr.VOD{}, dvr.Errorf(dvr.EUNAVAILABLE, "disk full: %s free in the storage folder, below the minimum of %s",
			formatBytes(int64(free)), formatBytes(int64(r.cfg.MinFreeBytes)))
	}
	s, err := r.reserve(ch)
	if err != nil {
		return dvr.VOD{}, err
	}
	info, err := r.probe(ctx, ch)
	if err != nil {
		r.release(s)
		return dvr.VOD{}, err
	}
	if !info.Live {
		r.release(s)
		if _, _, err := r.lib.SetLive(ctx, ch.ID, false, ch.Title, ch.Category); err != nil {
			r.logger.Error("set channel offline", "channel", ch.Name, "err", err)
		}
		return dvr.VOD{}, dvr.Errorf(dvr.ECONFLICT, "channel is offline: %s", reasonOr(info.Reason, "no stream"))
	}
	r.mu.Lock()
	delete(r.held, ch.ID)
	r.mu.Unlock()
	return r.begin(ctx, s, info)
}

// Recording returns the VOD being recorded for a channel, if any.
func (r *Recorder) Recording(channelID int64) (dvr.VOD, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sessions[channelID]
	if !ok || s.vod.ID == 0 {
		return dvr.VOD{}, false
	}
	return s.vod, true
}

// reserve claims the channel for one session; ECONFLICT when it is taken,
// EUNAVAILABLE when the Recorder is not running.
func (r *Recorder) reserve(ch dvr.Channel) (*session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.runCtx == nil || r.stopping:
		return nil, dvr.Errorf(dvr.EUNAVAILABLE, "the recorder is not running")
	case r.sessions[ch.ID] != nil:
		if v := r.sessions[ch.ID].vod; v.ID != 0 {
			return nil, dvr.Errorf(dvr.ECONFLICT, "channel %s is already being recorded (vod %d, %s)", ch.Name, v.ID, v.Basename)
		}
		return nil, dvr.Errorf(dvr.ECONFLICT, "channel %s is already being recorded", ch.Name)
	}
	s := &session{ch: ch}
	r.sessions[ch.ID] = s
	return s, nil
}

// release frees the channel's slot after a session ends or fails to start.
func (r *Recorder) release(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions[s.ch.ID] == s {
		delete(r.sessions, s.ch.ID)
	}
}

// begin turns a reserved session into a recording: the channel is marked
// live (notify on the flip), the VOD is created with its folder,
// start_download is published, and the capture runs in the background.
func (r *Recorder) begin(ctx context.Context, s *session, info media.StreamInfo) (dvr.VOD, error) {
	fail := func(err error) (dvr.VOD, error) {
		r.release(s)
		return dvr.VOD{}, err
	}
	ch, err := r.markLive(ctx, s.ch, info)
	if err != nil {
		return fail(err)
	}
	s.ch = ch
	if s.backend, err = chooseBackend(ch, r.tools, r.cfg.StreamTimeout); err != nil {
		return fail(err)
	}
	vod, err := r.lib.CreateVOD(ctx, CreateVODParams{ChannelID: ch.ID, Title: truncateTitle(info.Title), StartedAt: r.cfg.Now()})
	if err != nil {
		return fail(fmt.Errorf("create vod: %w", err))
	}
	dir, err := VODDir(r.cfg.StorageDir, ch.Name, vod.Basename)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		// The VOD exists; end it as failed rather than leave it capturing.
		r.finishEmpty(ctx, vod, fmt.Sprintf("create folder: %v", err))
		return fail(fmt.Errorf("create vod folder: %w", err))
	}
	if _, err := r.bus.PublishNow(ctx, event.StartDownload{VOD: vod}); err != nil {
		r.logger.Error("publish start_download", "vod", vod.Basename, "err", err)
	}

	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		// The VOD stays capturing with no parts; recovery ends it.
		return fail(dvr.Errorf(dvr.EUNAVAILABLE, "the recorder is stopping"))
	}
	sessCtx, cancel := context.WithCancelCause(r.runCtx)
	s.vod, s.cancel = vod, cancel
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		defer r.release(s)
		defer cancel(nil)
		r.runSession(sessCtx, s, info)
	}()
	return vod, nil
}

// markLive records the channel as live with the probe's metadata and
// publishes notify when it was not live before.
func (r *Recorder) markLive(ctx context.Context, ch dvr.Channel, info media.StreamInfo) (dvr.Channel, error) {
	wasLive := ch.IsLive
	now, _, err := r.lib.SetLive(ctx, ch.ID, true, truncateTitle(info.Title), truncateTitle(info.Category))
	if err != nil {
		return ch, fmt.Errorf("set channel live: %w", err)
	}
	if !wasLive {
		body := info.Title
		if body == "" {
			body = ch.URL
		}
		if _, err := r.bus.PublishNow(ctx, event.Notify{Title: ch.Name + " is live", Body: body, URL: ch.URL, Category: "live"}); err != nil {
			r.logger.Error("publish live notice", "channel", ch.Name, "err", err)
		}
	}
	return now, nil
}

// probe asks the configured or built-in prober about ch.
func (r *Recorder) probe(ctx context.Context, ch dvr.Channel) (media.StreamInfo, error) {
	switch {
	case r.cfg.Prober != nil:
		return r.cfg.Prober.Probe(ctx, ch)
	case IsPlaylistURL(ch.URL):
		return r.playlist.Probe(ctx, ch)
	case r.streamlink != nil:
		return r.streamlink.Probe(ctx, ch)
	}
	return media.StreamInfo{}, dvr.Errorf(dvr.EUNAVAILABLE,
		"channel %s: streamlink is needed to watch %s (only .m3u8 playlists can be watched without it)", ch.Name, ch.URL)
}

// checkDisk reports whether the storage folder has less than MinFreeBytes
// free, and how much it has; enough space ends a low-space episode (see
// diskAlert). A failed check counts as enough space: it is logged, and
// never stops a recording on its own.
func (r *Recorder) checkDisk() (low bool, free uint64) {
	if err := os.MkdirAll(r.cfg.StorageDir, 0o755); err != nil {
		r.logger.Warn("create storage folder", "dir", r.cfg.StorageDir, "err", err)
	}
	free, err := r.cfg.FreeBytesFunc(r.cfg.StorageDir)
	if err != nil {
		r.logger.Warn("check free disk space", "dir", r.cfg.StorageDir, "err", err)
		return false, 0
	}
	if free < r.cfg.MinFreeBytes {
		return true, free
	}
	r.resetDiskAlert()
	return false, free
}

// diskAlert publishes the critical disk-full alert once per low-space
// episode, so a live channel that cannot be recorded does not repeat it
// every poll.
func (r *Recorder) diskAlert(ctx context.Context, free uint64, what string) {
	r.mu.Lock()
	already := r.diskLow
	r.diskLow = true
	r.mu.Unlock()
	if already {
		return
	}
	text := fmt.Sprintf("disk full: %s free in %s, below the minimum of %s; %s. Free some space or lower the minimum.",
		formatBytes(int64(free)), r.cfg.StorageDir, formatBytes(int64(r.cfg.MinFreeBytes)), what)
	r.logger.Error(text)
	if _, err := r.bus.PublishNow(context.WithoutCancel(ctx), event.Alert{Text: text, Level: event.LevelCritical}); err != nil {
		r.logger.Error("publish disk alert", "err", err)
	}
}

func (r *Recorder) resetDiskAlert() {
	r.mu.Lock()
	r.diskLow = false
	r.mu.Unlock()
}

// truncateTitle bounds a title or category from outside to what the
// library stores.
func truncateTitle(s string) string {
	if len(s) <= maxTitleLen {
		return s
	}
	s = s[:maxTitleLen]
	// Do not leave half a UTF-8 sequence at the end.
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func reasonOr(reason, def string) string {
	if reason == "" {
		return def
	}
	return reason
}
