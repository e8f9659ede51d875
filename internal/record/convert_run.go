package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/media"
)

const (
	// durationTolerance is how far, as a fraction, the MP4's duration may
	// be from the parts' total before the conversion is rejected.
	durationTolerance = 0.02
	// spaceMargin is the free space needed beyond the parts' size, as a
	// fraction of it: the MP4 is about as large as the parts, plus its index.
	spaceMargin = 0.05
	// convertFinalizeTimeout bounds the writes that record an outcome once the
	// work is done, whatever happened to the job's context.
	convertFinalizeTimeout = time.Minute
	// reasonLines is how many trailing lines of a tool's output a failure
	// reason quotes.
	reasonLines = 3
)

// vodPaths are the files of one VOD's folder that conversion reads or
// writes.
type vodPaths struct {
	dir, basename string
	mp4, tmp      string // final MP4, and the name it is written under
	metadata      string // FFMETADATA chapters for ffmpeg
	list          string // concat list of the parts
	captureLog    string
	convertLog    string
	vtt, csv      string // chapter sidecars
	info          string // <basename>.info.json
}

func newVODPaths(dir, basename string) vodPaths {
	f := func(name string) string { return filepath.Join(dir, name) }
	return vodPaths{
		dir: dir, basename: basename,
		mp4: f(basename + ".mp4"), tmp: f(basename + ".mp4.tmp"),
		metadata: f(basename + ".ffmetadata"), list: f(basename + ".ffconcat"),
		captureLog: f("capture.log"), convertLog: f("convert.log"),
		vtt: f(basename + ".chapters.vtt"), csv: f(basename + ".chapters.csv"), info: f(basename + ".info.json"),
	}
}

// failure is a conversion that failed for good: Convert records it instead
// of returning it for a retry.
type failure struct {
	reason string
	alert  bool // also publish an alert: an operator must act
}

func (f failure) Error() string { return f.reason }

func failf(format string, args ...any) error { return failure{reason: fmt.Sprintf(format, args...)} }

// Convert converts the capture parts of a VOD in status converting into
// <basename>.mp4 and finishes the VOD. In order: start_convert is published
// (once per VOD, however often Convert runs); the free space must exceed
// the parts' size by 5 %; every part is probed; the parts are joined with
// the chapters into <basename>.mp4.tmp (log: convert.log; progress through
// job.ReportProgress), which must probe within 2 % of the parts' duration
// and carry the chapters before it is renamed to <basename>.mp4. Then the
// chapter sidecars and <basename>.info.json are written, the parts deleted
// (unless KeepTS), and the VOD's files, duration and status (finalized, or
// interrupted when interrupted is set) recorded with end_convert,
// vod_updated and end_download in one transaction.
//
// It is idempotent: a VOD already finished is left alone (nil), and an MP4
// already in place that verifies is kept without remuxing again, so a job
// resumed after a restart completes the work.
//
// Errors: ENOTFOUND; ECONFLICT while the same VOD is being converted by
// another call; an error wrapping ErrConvertFailed when the conversion
// failed for good and the failure is recorded (VOD failed, parts kept, no
// MP4, end_convert{success false, reason}, notify "capture_failed", an
// alert when an operator must act, end_download); an error for a VOD still
// capturing, which no retry can fix; anything else is unexpected
// (database, file system, ctx ended: the VOD stays converting) and worth a
// retry.
func (c *Converter) Convert(ctx context.Context, vodID int64, interrupted bool) error {
	if !c.begin(vodID) {
		return dvr.Errorf(dvr.ECONFLICT, "vod %d is already being converted", vodID)
	}
	defer c.end(vodID)

	v, err := c.lib.GetVOD(ctx, vodID)
	if err != nil {
		return err
	}
	switch v.Status {
	case StatusConverting:
	case StatusFinalized, StatusInterrupted, StatusFailed:
		c.logger.Info("vod already converted", "vod_id", v.ID, "basename", v.Basename, "status", v.Status)
		return nil
	default:
		return fmt.Errorf("convert vod %d: %w: it is %s", v.ID, errNotConvertible, v.Status)
	}
	dir, err := VODDir(c.cfg.StorageDir, v.ChannelName, v.Basename)
	if err != nil {
		return fmt.Errorf("convert vod %d: %w", v.ID, err)
	}
	p := newVODPaths(dir, v.Basename)
	if v, err = c.claimStart(ctx, v.ID); err != nil {
		return err
	}
	dur, err := c.produce(ctx, v, p)
	var f failure
	if errors.As(err, &f) {
		return c.recordFailure(ctx, v, p, f)
	}
	if err != nil {
		return fmt.Errorf("convert vod %d: %w", v.ID, err)
	}
	return c.finish(ctx, v, p, dur, interrupted)
}

// produce makes sure a verified <basename>.mp4 exists, remuxing the parts
// when needed, and returns its duration. A failure error means the
// conversion cannot succeed.
func (c *Converter) produce(ctx context.Context, v dvr.VOD, p vodPaths) (time.Duration, error) {
	parts, err := findParts(p.dir, v.Basename)
	if err != nil {
		return 0, err
	}
	var (
		nonEmpty []partFile
		size     int64
	)
	for _, pt := range parts {
		if pt.size > 0 {
			nonEmpty = append(nonEmpty, pt)
			size += pt.size
		}
	}
	chapters := mediaChapters(v)

	if _, err := os.Stat(p.mp4); err == nil {
		// A restart after the rename: keep the MP4 if it is the one we
		// verified. Without parts (already deleted) it is all there is.
		var want time.Duration
		if len(nonEmpty) > 0 {
			if want, err = c.partsDuration(ctx, nonEmpty); err != nil {
				return 0, err
			}
		}
		res, perr := c.probe(ctx, p.mp4)
		if perr == nil {
			if reason := verify(res, want, chapters); reason == "" {
				c.logger.Info("keeping converted mp4", "vod_id", v.ID, "basename", v.Basename)
				return res.Duration, nil
			}
		}
		if len(nonEmpty) == 0 {
			return 0, failf("%s.mp4 does not verify and there are no capture parts to convert again", v.Basename)
		}
		c.logger.Warn("replacing an mp4 that does not verify", "vod_id", v.ID, "basename", v.Basename)
		if err := os.Remove(p.mp4); err != nil {
			return 0, fmt.Errorf("remove unverified mp4: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("stat mp4: %w", err)
	}

	if len(nonEmpty) == 0 {
		if len(parts) == 0 {
			return 0, failf("no capture parts (%s.part001.ts...) to convert", v.Basename)
		}
		return 0, failf("all %d capture parts are empty: nothing was recorded", len(parts))
	}
	free, err := c.cfg.FreeBytesFunc(p.dir)
	if err != nil {
		return 0, fmt.Errorf("check free space: %w", err)
	}
	need := uint64(float64(size) * (1 + spaceMargin))
	if free < need {
		return 0, failure{alert: true, reason: fmt.Sprintf(
			"not enough free space to convert: need %s (the capture parts' %s plus 5%%) but %s has %s free",
			humanBytes(need), humanBytes(uint64(size)), p.dir, humanBytes(free))}
	}
	total, err := c.partsDuration(ctx, nonEmpty)
	if err != nil {
		return 0, err
	}
	return c.remux(ctx, p, nonEmpty, chapters, total)
}

// partsDuration probes every part and returns their total duration. A part
// ffprobe cannot read fails the conversion.
func (c *Converter) partsDuration(ctx context.Context, parts []partFile) (time.Duration, error) {
	var total time.Duration
	for _, pt := range parts {
		res, err := c.probe(ctx, pt.path)
		if err != nil {
			var exitErr *media.ExitError
			if errors.As(err, &exitErr) && !exitErr.Canceled {
				return 0, failf("capture part %s cannot be read: %s", pt.name, tailReason(exitErr))
			}
			return 0, fmt.Errorf("probe %s: %w", pt.name, err)
		}
		if _, ok := res.Video(); !ok {
			if _, ok := res.Audio(); !ok {
				return 0, failf("capture part %s has no audio or video stream", pt.name)
			}
		}
		total += res.Duration
	}
	if total <= 0 {
		return 0, failf("the capture parts have no duration")
	}
	return total, nil
}

// remux joins the parts into p.tmp, verifies it and renames it to p.mp4.
func (c *Converter) remux(ctx context.Context, p vodPaths, parts []partFile, chapters []media.Chapter, total time.Duration) (time.Duration, error) {
	paths := make([]string, len(parts))
	for i, pt := range parts {
		paths[i] = pt.path
	}
	list, err := media.ConcatList(paths)
	if err != nil {
		return 0, err
	}
	defer removeQuietly(p.list, p.metadata)
	if err := writeFileAtomic(p.list, []byte(list)); err != nil {
		return 0, err
	}
	opts := media.RemuxOptions{List: p.list, Output: p.tmp}
	if len(chapters) > 0 {
		if err := writeFileAtomic(p.metadata, []byte(media.FFMetadata(chapters, total))); err != nil {
			return 0, err
		}
		opts.Chapters = p.metadata
	}
	args, err := media.RemuxArgs(opts)
	if err != nil {
		return 0, err
	}
	// A .tmp is ours by name: left by an attempt that was stopped.
	if err := os.Remove(p.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("remove stale %s: %w", filepath.Base(p.tmp), err)
	}
	var prog media.Progress
	err = media.Run(ctx, media.Cmd{
		Path: c.cfg.FFmpegPath, Args: args, Dir: p.dir, LogPath: p.convertLog, MustNotExist: []string{p.tmp},
		OnLine: func(_, line string) {
			var report bool
			prog, report = media.ParseFFmpegProgress(line, prog)
			if report && (prog.Kind == media.ProgressWritten || prog.Kind == media.ProgressEnded) {
				job.ReportProgress(ctx, float64(prog.OutTime)/float64(total),
					fmt.Sprintf("%s of %s", prog.OutTime.Truncate(time.Second), total.Truncate(time.Second)))
			}
		},
	})
	if err != nil {
		removeQuietly(p.tmp)
		var exitErr *media.ExitError
		if errors.As(err, &exitErr) && !exitErr.Canceled {
			return 0, failf("remux failed: %s", tailReason(exitErr))
		}
		return 0, fmt.Errorf("remux: %w", err)
	}
	res, err := c.probe(ctx, p.tmp)
	if err != nil {
		removeQuietly(p.tmp)
		var exitErr *media.ExitError
		if errors.As(err, &exitErr) && !exitErr.Canceled {
			return 0, failf("the remuxed file cannot be read: %s", tailReason(exitErr))
		}
		return 0, fmt.Errorf("probe remuxed file: %w", err)
	}
	if reason := verify(res, total, chapters); reason != "" {
		removeQuietly(p.tmp)
		return 0, failf("the remuxed file does not verify: %s", reason)
	}
	if err := os.Rename(p.tmp, p.mp4); err != nil {
		removeQuietly(p.tmp)
		return 0, fmt.Errorf("rename remuxed file: %w", err)
	}
	return res.Duration, nil
}

// verify checks a probed MP4 against the parts' total duration (0: unknown)
// and the chapters it should carry; it returns why it does not pass, or "".
func verify(res media.ProbeResult, want time.Duration, chapters []media.Chapter) string {
	_, hasVideo := res.Video()
	_, hasAudio := res.Audio()
	if !hasVideo && !hasAudio {
		return "it has no audio or video stream"
	}
	if res.Duration <= 0 {
		return "it has no duration"
	}
	if want > 0 {
		diff := res.Duration - want
		if diff < 0 {
			diff = -diff
		}
		if float64(diff) > durationTolerance*float64(want) {
			return fmt.Sprintf("it lasts %s but the capture parts last %s (more than 2%% apart)",
				res.Duration.Round(time.Millisecond), want.Round(time.Millisecond))
		}
	} else {
		want = res.Duration
	}
	if n := expectedChapters(chapters, want); n > 0 && len(res.Chapters) != n {
		return fmt.Sprintf("it has %d chapters, want %d", len(res.Chapters), n)
	}
	return ""
}

// expectedChapters is how many chapters FFMetadata writes for total: those
// starting before the end.
func expectedChapters(chapters []media.Chapter, total time.Duration) int {
	n := 0
	for _, ch := range chapters {
		if max(ch.Start, 0) < total {
			n++
		}
	}
	return n
}

// mediaChapters turns the VOD's chapters into chapter-file entries, titled
// "title (category)", or either alone when the other is empty.
func mediaChapters(v dvr.VOD) []media.Chapter {
	out := make([]media.Chapter, 0, len(v.Chapters))
	for _, ch := range v.Chapters {
		out = append(out, media.Chapter{
			Start: time.Duration(ch.OffsetSec * float64(time.Second)).Round(time.Millisecond),
			Title: chapterTitle(ch),
		})
	}
	return out
}

func chapterTitle(ch dvr.Chapter) string {
	switch {
	case ch.Title == "":
		return ch.Category
	case ch.Category == "":
		return ch.Title
	}
	return ch.Title + " (" + ch.Category + ")"
}

// probe runs ffprobe on path and parses its report.
func (c *Converter) probe(ctx context.Context, path string) (media.ProbeResult, error) {
	var out strings.Builder
	err := media.Run(ctx, media.Cmd{Path: c.cfg.FFprobePath, Args: media.FFprobeArgs(path), OnLine: func(stream, line string) {
		if stream == media.Stdout {
			out.WriteString(line)
			out.WriteByte('\n')
		}
	}})
	if err != nil {
		return media.ProbeResult{}, err
	}
	return media.ParseFFprobe([]byte(out.String()))
}

// partFile is one capture part on disk.
type partFile struct {
	name string // relative to the VOD folder
	path string
	num  int
	size int64
	mod  time.Time
}

// findParts lists the capture parts <basename>.partNNN.ts in dir, in part
// order. A missing folder has no parts.
func findParts(dir, basename string) ([]partFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list capture parts: %w", err)
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(basename) + `\.part(\d{3,9})\.ts$`)
	var parts []partFile
	for _, e := range entries {
		m := re.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("stat capture part %s: %w", e.Name(), err)
		}
		num, _ := strconv.Atoi(m[1])
		parts = append(parts, partFile{name: e.Name(), path: filepath.Join(dir, e.Name()), num: num, size: info.Size(), mod: info.ModTime()})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].num < parts[j].num })
	return parts, nil
}

// tailReason quotes the last lines of a failed tool's output.
func tailReason(e *media.ExitError) string {
	tail := e.Tail
	if len(tail) > reasonLines {
		tail = tail[len(tail)-reasonLines:]
	}
	how := fmt.Sprintf("%s exited with code %d", filepath.Base(e.Path), e.Code)
	if e.Signal != 0 {
		how = fmt.Sprintf("%s was killed by signal %s", filepath.Base(e.Path), e.Signal)
	}
	if len(tail) == 0 {
		return how
	}
	return how + ": " + strings.Join(tail, " | ")
}

// removeQuietly removes files that may not exist; a failure only leaves a
// stray file that the next run replaces.
func removeQuietly(paths ...string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}

// humanBytes formats a byte count in decimal units, as disks are sold.
func humanBytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
