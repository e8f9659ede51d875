package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/store"
)

// ConvertKind is the River kind of ConvertVODArgs.
const ConvertKind = "record.convert_vod"

// ConvertMaxAttempts is how many times a conversion job runs before River
// gives up. Only unexpected errors (database, file system) are retried: a
// conversion that fails on its media is recorded at once and not retried.
const ConvertMaxAttempts = 3

// DefaultConvertTimeout is the default ConverterConfig.Timeout.
const DefaultConvertTimeout = 6 * time.Hour

// ErrConvertFailed is wrapped by the error Convert returns when the
// conversion failed for good and that failure has been recorded: the VOD is
// failed, end_convert{success false} and end_download are published.
var ErrConvertFailed = errors.New("conversion failed")

// ConvertVODArgs are the arguments of the job that converts a VOD's capture
// parts into its MP4 and finishes the VOD (Converter.Convert). A job whose
// VOD is gone, or whose conversion failed for good (recorded on the VOD and
// in end_convert), ends cancelled with the reason as its error rather than
// being retried.
type ConvertVODArgs struct {
	// VODID is the VOD to convert; at most one job per VOD waits or runs.
	VODID int64 `json:"vod_id" river:"unique"`
	// Interrupted marks a capture that lsdvr's stop cut short: the VOD ends
	// as interrupted instead of finalized.
	Interrupted bool `json:"interrupted"`
}

// Kind implements river.JobArgs.
func (ConvertVODArgs) Kind() string { return ConvertKind }

// InsertOpts implements river.JobArgsWithInsertOpts: ConvertMaxAttempts
// attempts, and one waiting or running job per VOD (a second insert is
// skipped as a duplicate).
func (ConvertVODArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: ConvertMaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// ConverterConfig configures a Converter. The zero value works with ffmpeg
// and ffprobe on PATH.
type ConverterConfig struct {
	// StorageDir is the folder VODs are stored under. Default: the
	// Library's.
	StorageDir string
	// KeepTS keeps the MPEG-TS capture parts after a verified conversion;
	// by default they are deleted.
	KeepTS bool
	// FFmpegPath and FFprobePath are the executables. Default "ffmpeg" and
	// "ffprobe", looked up on PATH.
	FFmpegPath  string
	FFprobePath string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// FreeBytesFunc returns the bytes available on the file system holding
	// a folder. Default media.FreeBytes.
	FreeBytesFunc func(path string) (uint64, error)
	// Timeout bounds one conversion attempt run as a job. Default
	// DefaultConvertTimeout (6 hours); -1 means no limit.
	Timeout time.Duration
}

// Converter turns a VOD's capture parts into one verified MP4 with
// chapters and sidecar files, and finishes the VOD. It is safe for
// concurrent use; a VOD is converted by one call at a time.
type Converter struct {
	cfg    ConverterConfig
	lib    *Library
	bus    *event.Bus
	logger *slog.Logger

	mu      sync.Mutex
	running map[int64]bool
}

// NewConverter returns a Converter for lib's VODs that publishes on bus.
// logger nil means slog.Default().
func NewConverter(cfg ConverterConfig, lib *Library, bus *event.Bus, logger *slog.Logger) *Converter {
	if cfg.StorageDir == "" {
		cfg.StorageDir = lib.StorageDir()
	}
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = media.FFmpeg
	}
	if cfg.FFprobePath == "" {
		cfg.FFprobePath = media.FFprobe
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FreeBytesFunc == nil {
		cfg.FreeBytesFunc = media.FreeBytes
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConvertTimeout
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Converter{cfg: cfg, lib: lib, bus: bus, logger: logger, running: map[int64]bool{}}
}

// AddWorkers registers the conversion worker on workers, which must then be
// given to job.New. Errors: a worker for ConvertKind is already registered.
func (c *Converter) AddWorkers(workers *river.Workers) error {
	if err := river.AddWorkerSafely(workers, &convertWorker{c: c}); err != nil {
		return fmt.Errorf("register %s worker: %w", ConvertKind, err)
	}
	return nil
}

// convertWorker runs ConvertVODArgs jobs.
type convertWorker struct {
	river.WorkerDefaults[ConvertVODArgs]
	c *Converter
}

// Timeout implements river.Worker: a remux of hours of video outlasts
// River's default of one minute.
func (w *convertWorker) Timeout(*river.Job[ConvertVODArgs]) time.Duration { return w.c.cfg.Timeout }

// Work implements river.Worker: it converts the VOD and maps the outcome
// to what River should do next.
func (w *convertWorker) Work(ctx context.Context, j *river.Job[ConvertVODArgs]) error {
	err := w.c.Convert(ctx, j.Args.VODID, j.Args.Interrupted)
	switch {
	case err == nil:
		return nil
	case dvr.IsNotFound(err), errors.Is(err, ErrConvertFailed), errors.Is(err, errNotConvertible):
		// Another attempt would end the same way.
		return river.JobCancel(err)
	case ctx.Err() != nil:
		// Stopped (shutdown, cancel, timeout): River decides; the VOD stays
		// converting and the next attempt resumes it.
		return err
	case j.Attempt >= j.MaxAttempts:
		w.c.giveUp(ctx, j.Args.VODID, err)
		return err
	default:
		return err
	}
}

// giveUp records a conversion that kept failing on unexpected errors, so
// the VOD does not stay converting for ever.
func (c *Converter) giveUp(ctx context.Context, vodID int64, err error) {
	reason := fmt.Sprintf("conversion failed %d times; last error: %v", ConvertMaxAttempts, err)
	v, gerr := c.lib.GetVOD(ctx, vodID)
	if gerr != nil {
		c.logger.Error("give up conversion", "vod_id", vodID, "err", gerr)
		return
	}
	if v.Status != StatusConverting {
		return
	}
	dir, derr := VODDir(c.cfg.StorageDir, v.ChannelName, v.Basename)
	if derr != nil {
		c.logger.Error("give up conversion", "vod_id", vodID, "err", derr)
		return
	}
	if ferr := c.recordFailure(ctx, v, newVODPaths(dir, v.Basename), failure{reason: reason, alert: true}); !errors.Is(ferr, ErrConvertFailed) {
		c.logger.Error("record failed conversion", "vod_id", vodID, "err", ferr)
	}
}

// begin claims vodID for one conversion in this process.
func (c *Converter) begin(vodID int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running[vodID] {
		return false
	}
	c.running[vodID] = true
	return true
}

func (c *Converter) end(vodID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.running, vodID)
}

// errNotConvertible marks a VOD whose status does not allow a conversion.
var errNotConvertible = errors.New("vod cannot be converted")

// MarkConverting moves a VOD from capturing to converting in tx, sets its
// end to now unless it has one, and publishes vod_updated in tx. A VOD
// already converting is returned unchanged. Insert its ConvertVODArgs job in
// the same tx (or use QueueConvertTx, which does both). Errors: ENOTFOUND;
// ECONFLICT when the VOD is finished already.
func (l *Library) MarkConverting(ctx context.Context, tx *store.Tx, id int64) (dvr.VOD, error) {
	return l.markConverting(ctx, tx, id, time.Time{})
}

// markConverting is MarkConverting with the end of the capture given
// (zero: now).
func (l *Library) markConverting(ctx context.Context, tx *store.Tx, id int64, endedAt time.Time) (dvr.VOD, error) {
	v, err := getVOD(ctx, tx, id)
	if err != nil {
		return dvr.VOD{}, err
	}
	switch v.Status {
	case StatusConverting:
		return v, nil
	case StatusCapturing:
	default:
		return dvr.VOD{}, dvr.Errorf(dvr.ECONFLICT, "vod %d (%s) is %s; only a capturing vod can be converted", v.ID, v.Basename, v.Status)
	}
	if v.EndedAt == nil {
		end := endedAt.UTC().Truncate(time.Millisecond)
		if endedAt.IsZero() {
			end = l.nowMilli()
		}
		if end.Before(v.StartedAt) {
			end = v.StartedAt
		}
		v.EndedAt = &end
	}
	v.Status = StatusConverting
	if _, err := tx.ExecContext(ctx, `UPDATE vods SET status = ?, ended_at = ?, updated_at = ? WHERE id = ?`,
		v.Status, store.UnixMilli(*v.EndedAt), store.UnixMilli(l.nowMilli()), id); err != nil {
		return dvr.VOD{}, fmt.Errorf("mark vod converting: %w", err)
	}
	if _, err := l.bus.Publish(ctx, tx, event.VODUpdated{VOD: v}); err != nil {
		return dvr.VOD{}, err
	}
	return v, nil
}

// QueueConvertTx marks the VOD converting (MarkConverting) and inserts its
// conversion job in tx, so both commit or neither does. interrupted makes
// the VOD end as interrupted. Errors: those of MarkConverting, and the job
// insert's.
func (l *Library) QueueConvertTx(ctx context.Context, tx *store.Tx, jobs *job.Service, vodID int64, interrupted bool) (dvr.VOD, error) {
	v, err := l.MarkConverting(ctx, tx, vodID)
	if err != nil {
		return dvr.VOD{}, err
	}
	if _, err := jobs.InsertTx(ctx, tx, ConvertVODArgs{VODID: vodID, Interrupted: interrupted}, nil); err != nil {
		return dvr.VOD{}, err
	}
	return v, nil
}
