package record

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/store"
)

// captureEnd says why a capture ended.
type captureEnd int

const (
	endOffline   captureEnd = iota // the broadcast is over
	endFailing                     // parts kept recording nothing, or cannot start
	endDiskFull                    // free space fell below the minimum
	endCancelled                   // a person cancelled the capture job
	endShutdown                    // lsdvr is stopping
)

// captureOutcome is what a capture left behind.
type captureOutcome struct {
	end     captureEnd
	parts   []VODFile // parts that recorded something, in order
	bytes   int64
	lastErr string // the last failure of a capture process
}

// chapterState is the title and category of the current chapter.
type chapterState struct{ title, category string }

// runSession records one broadcast: start_capture, the first chapter, the
// tracked job, the parts, then end_capture and the hand-off to conversion.
func (r *Recorder) runSession(ctx context.Context, s *session, info media.StreamInfo) {
	log := r.logger.With("channel", s.ch.Name, "vod", s.vod.Basename, "backend", s.backend.name())
	log.Info("capture starting")
	if _, err := r.bus.PublishNow(ctx, event.StartCapture{VOD: s.vod}); err != nil {
		log.Error("publish start_capture", "err", err)
	}
	meta := chapterState{title: truncateTitle(info.Title), category: truncateTitle(info.Category)}
	if _, err := r.lib.AddChapter(ctx, s.vod.ID, ChapterParams{Title: meta.title, Category: meta.category, StartedAt: s.vod.StartedAt}); err != nil {
		log.Error("add first chapter", "err", err)
	}
	tracked := r.jobs.Track(ctx, "capture:"+s.ch.Name, "capture", map[string]any{
		"channel": s.ch.Name, "vod_id": s.vod.ID, "basename": s.vod.Basename, "backend": s.backend.name(),
	}, func() { s.cancel(errCaptureStopped) })
	tracked.Update(job.StateRunning, nil)

	out := r.capture(ctx, s, tracked, &meta, log)

	// Finishing must happen even when ctx was cancelled (a person stopped
	// the capture), but not forever.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalizeTimeout)
	defer cancel()
	vod := s.vod
	if files := r.captureFiles(s.vod, out.parts); len(files) > 0 {
		v, err := r.lib.SetFiles(fctx, s.vod.ID, files)
		if err != nil {
			log.Error("list capture files", "err", err)
		} else {
			vod = v
		}
	}
	if out.end == endShutdown {
		tracked.Update(job.StateCancelled, errShutdown)
		tracked.Clear()
		log.Info("capture stopped by shutdown; the vod stays capturing until recovery converts it", "parts", len(out.parts))
		return
	}

	success, reason := out.result()
	switch {
	case out.end == endCancelled:
		tracked.Update(job.StateCancelled, nil)
	case success:
		tracked.Update(job.StateCompleted, nil)
	default:
		tracked.Update(job.StateFailed, errors.New(reason))
	}
	tracked.Clear()
	log.Info("capture ended", "success", success, "reason", reason, "parts", len(out.parts), "bytes", out.bytes)
	ended := event.EndCapture{VOD: vod, Success: success, Reason: reason}
	if len(out.parts) > 0 {
		if err := r.handOff(fctx, ended); err != nil {
			// The VOD stays capturing; recovery at the next start
			// converts it.
			log.Error("hand the capture to conversion", "err", err)
		}
	} else {
		err := r.lib.db.InTx(fctx, func(tx *store.Tx) error {
			return r.publishEnd(fctx, tx, ended)
		})
		if err != nil {
			log.Error("publish end_capture", "err", err)
		}
		r.finishEmpty(fctx, vod, reason)
	}
	switch out.end {
	case endOffline:
		ch, err := r.lib.GetChannel(fctx, s.ch.ID)
		if err == nil {
			_, _, err = r.lib.SetLive(fctx, ch.ID, false, ch.Title, ch.Category)
		}
		if err != nil && !dvr.IsNotFound(err) {
			log.Error("set channel offline", "err", err)
		}
	case endCancelled:
		r.hold(s.ch.ID)
	}
}

// result is end_capture's success and reason.
func (o captureOutcome) result() (bool, string) {
	var reason string
	switch o.end {
	case endOffline:
		reason = "stream ended"
	case endCancelled:
		reason = "capture cancelled"
	case endDiskFull:
		reason = "disk full"
	case endFailing:
		reason = "capture kept failing: " + reasonOr(o.lastErr, "no data")
	}
	if len(o.parts) == 0 {
		if o.end == endOffline || o.end == endCancelled {
			return false, "nothing was recorded: " + reason
		}
		return false, reason
	}
	return o.end == endOffline || o.end == endCancelled, reason
}

// capture runs parts until the broadcast ends, the capture is stopped, the
// disk fills up or the process keeps failing.
func (r *Recorder) capture(ctx context.Context, s *session, tracked *job.Tracked, meta *chapterState, log *slog.Logger) captureOutcome {
	var out captureOutcome
	logPath, err := FilePath(r.cfg.StorageDir, s.ch.Name, s.vod.Basename, CaptureLogName)
	if err != nil {
		out.end, out.lastErr = endFailing, err.Error()
		return out
	}
	failures := 0
	for part := 1; ; part++ {
		if end, stopped := stopReason(context.Cause(ctx)); stopped {
			out.end = end
			return out
		}
		if low, free := r.checkDisk(); low {
			r.diskAlert(ctx, free, "the capture of "+s.ch.Name+" was stopped")
			out.end = endDiskFull
			return out
		}
		name := PartName(s.vod.Basename, part)
		path, err := FilePath(r.cfg.StorageDir, s.ch.Name, s.vod.Basename, name)
		if err != nil {
			out.end, out.lastErr = endFailing, err.Error()
			return out
		}
		size, runErr, cause := r.capturePart(ctx, s, tracked, meta, path, logPath, part, out.bytes)
		if size > 0 {
			out.parts = append(out.parts, VODFile{Name: name, Kind: FileCapturePart, SizeBytes: size})
			out.bytes += size
			failures = 0
		} else {
			// An empty part holds nothing worth converting.
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("remove empty part", "part", name, "err", err)
			}
			failures++
		}
		if end, stopped := stopReason(cause); stopped {
			out.end = end
			return out
		}
		if runErr != nil {
			out.lastErr = runErr.Error()
			log.Warn("capture process ended", "part", name, "err", runErr)
			var de *dvr.Error
			if errors.As(runErr, &de) {
				// A refused command (bad setting, existing file) fails
				// the same way every time.
				out.end = endFailing
				return out
			}
		}
		// The process ended by itself: is the broadcast over, or did the
		// capture drop?
		info, err := r.probe(ctx, s.ch)
		switch {
		case err != nil:
			log.Warn("probe after the capture process ended", "err", err)
		case !info.Live:
			out.end = endOffline
			return out
		}
		if failures >= r.cfg.MaxFailedParts {
			out.end = endFailing
			return out
		}
		delay := r.cfg.RestartBackoff[min(failures, len(r.cfg.RestartBackoff)-1)]
		log.Info("capture dropped while the channel is live; restarting", "next_part", part+1, "in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// stopReason maps a context cause to the end it means; stopped is false
// for nil and unknown causes.
func stopReason(cause error) (end captureEnd, stopped bool) {
	switch {
	case cause == nil:
		return 0, false
	case errors.Is(cause, errShutdown):
		return endShutdown, true
	case errors.Is(cause, errCaptureStopped):
		return endCancelled, true
	case errors.Is(cause, errDiskFull):
		return endDiskFull, true
	}
	return 0, false
}

// capturePart runs one capture process into path while a monitor follows
// the channel's metadata and the free space. It returns the part's size,
// the process's error and the cause that stopped it, if one did.
func (r *Recorder) capturePart(ctx context.Context, s *session, tracked *job.Tracked, meta *chapterState,
	path, logPath string, part int, before int64) (size int64, runErr, cause error) {
	cmd, err := s.backend.cmd(s.ch, path, part == 1)
	if err != nil {
		return 0, err, nil
	}
	cmd.LogPath = logPath
	cmd.Grace = r.cfg.StopGrace
	var prog media.Progress
	cmd.LogLine = newProgressLog(r.cfg.Now).keep
	cmd.OnLine = func(_, line string) {
		p, ok := s.backend.parse(line, prog)
		prog = p
		if ok && (p.Kind == media.ProgressWritten || p.Kind == media.ProgressSegment) {
			tracked.Progress(0, progressText(before+p.Bytes, p, part))
		}
	}

	partCtx, stopPart := context.WithCancelCause(ctx)
	defer stopPart(nil)
	monCtx, stopMonitor := context.WithCancel(partCtx)
	monitorDone := make(chan struct{})
	go func() {
		defer close(monitorDone)
		r.monitor(monCtx, s, meta, stopPart)
	}()
	runErr = media.Run(partCtx, cmd)
	stopMonitor()
	<-monitorDone
	cause = context.Cause(partCtx)
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	return size, runErr, cause
}

// monitor probes the channel every metadata interval while a part runs:
// a new title or category starts a chapter, and free space below the
// minimum stops the part (cause errDiskFull).
func (r *Recorder) monitor(ctx context.Context, s *session, meta *chapterState, stopPart context.CancelCauseFunc) {
	every := min(r.cfg.MetadataInterval, time.Duration(max(s.ch.PollIntervalSec, MinPollInterval))*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if low, free := r.checkDisk(); low {
			r.diskAlert(ctx, free, "the capture of "+s.ch.Name+" was stopped")
			stopPart(errDiskFull)
			return
		}
		info, err := r.probe(ctx, s.ch)
		if err != nil || !info.Live {
			// The process itself tells when the broadcast is over.
			continue
		}
		title, category := truncateTitle(info.Title), truncateTitle(info.Category)
		if title == meta.title && category == meta.category {
			continue
		}
		meta.title, meta.category = title, category
		if _, err := r.lib.AddChapter(ctx, s.vod.ID, ChapterParams{Title: title, Category: category, StartedAt: r.cfg.Now()}); err != nil {
			r.logger.Error("add chapter", "vod", s.vod.Basename, "err", err)
		}
		if _, _, err := r.lib.SetLive(ctx, s.ch.ID, true, title, category); err != nil && !dvr.IsNotFound(err) {
			r.logger.Error("update channel title", "channel", s.ch.Name, "err", err)
		}
	}
}

// captureFiles lists the parts and the capture log, as SetFiles takes them.
func (r *Recorder) captureFiles(v dvr.VOD, parts []VODFile) []VODFile {
	files := append([]VODFile(nil), parts...)
	if p, err := FilePath(r.cfg.StorageDir, v.ChannelName, v.Basename, CaptureLogName); err == nil {
		if fi, err := os.Stat(p); err == nil {
			files = append(files, VODFile{Name: CaptureLogName, Kind: FileLog, SizeBytes: fi.Size()})
		}
	}
	return files
}

// finishEmpty ends a VOD that recorded nothing: it is marked failed and the
// pipeline ends (end_download), since there is nothing to convert.
func (r *Recorder) finishEmpty(ctx context.Context, v dvr.VOD, reason string) {
	status, ended := StatusFailed, r.cfg.Now()
	if ended.Before(v.StartedAt) {
		ended = v.StartedAt
	}
	out, err := r.lib.UpdateVOD(ctx, v.ID, VODPatch{Status: &status, EndedAt: &ended})
	if err != nil {
		r.logger.Error("mark vod failed", "vod", v.Basename, "reason", reason, "err", err)
		return
	}
	if _, err := r.bus.PublishNow(ctx, event.EndDownload{VOD: out}); err != nil {
		r.logger.Error("publish end_download", "vod", v.Basename, "err", err)
	}
}

// handOff publishes end_capture, marks the VOD converting and enqueues its
// conversion in one transaction: a crash leaves either a capturing VOD
// (recovered at the next start, which announces its end itself) or a
// converting one with its job, and end_capture is published exactly once.
func (r *Recorder) handOff(ctx context.Context, ended event.EndCapture) error {
	return r.lib.db.InTx(ctx, func(tx *store.Tx) error {
		if err := r.publishEnd(ctx, tx, ended); err != nil {
			return err
		}
		_, err := r.lib.QueueConvertTx(ctx, tx, r.jobs, ended.VOD.ID, false)
		return err
	})
}

// publishEnd publishes end_capture and, when the capture failed, a notify
// (category capture_failed) so that a person learns of it.
func (r *Recorder) publishEnd(ctx context.Context, tx *store.Tx, ended event.EndCapture) error {
	if _, err := r.bus.Publish(ctx, tx, ended); err != nil {
		return err
	}
	if ended.Success {
		return nil
	}
	_, err := r.bus.Publish(ctx, tx, event.Notify{
		Title:    ended.VOD.ChannelName + ": recording failed",
		Body:     ended.VOD.Basename + ": " + ended.Reason,
		Category: "capture_failed",
	})
	return err
}
