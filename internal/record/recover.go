package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Reasons Recover gives in end_capture.
const (
	ReasonStoppedDuringCapture = "lsdvr stopped during the capture; the recording is incomplete"
	ReasonStoppedBeforeData    = "lsdvr stopped during the capture before anything was recorded"
)

// Recover finishes the VODs that a previous run of lsdvr left capturing (it
// was killed or stopped mid-capture). Call it once at start, before the
// recorder starts. For each such VOD, in one transaction: an alert (level
// warning) naming the channel and VOD, end_capture{success false} with
// ReasonStoppedDuringCapture, status converting (ended at its last part's
// modification time) and a ConvertVODArgs{Interrupted: true} job, so the
// VOD ends as interrupted with what was recorded. A VOD without any
// non-empty part becomes failed instead (alert, end_capture with
// ReasonStoppedBeforeData, vod_updated, notify "capture_failed",
// end_download). Each VOD is recovered on its own: errors are
// joined, and the others are still recovered. Last, a VOD left converting
// with no conversion job that will still run is queued again.
func (c *Converter) Recover(ctx context.Context, jobs *job.Service) error {
	rows, err := c.lib.db.Read.QueryContext(ctx, `SELECT id FROM vods WHERE status = ? ORDER BY id`, StatusCapturing)
	if err != nil {
		return fmt.Errorf("list capturing vods: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("list capturing vods: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list capturing vods: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := c.recoverVOD(ctx, jobs, id); err != nil && !dvr.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("recover vod %d: %w", id, err))
		}
	}
	if err := c.requeueOrphans(ctx, jobs); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// liveJobStates are the states of a conversion job that will still run.
var liveJobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// requeueOrphans queues a conversion again for every VOD left converting
// without a job that will still run: one a person cancelled, or one whose
// attempts ran out. Whether the VOD was interrupted is taken from its
// earlier job, so it still ends as interrupted.
func (c *Converter) requeueOrphans(ctx context.Context, jobs *job.Service) error {
	rows, err := c.lib.db.Read.QueryContext(ctx, `SELECT id FROM vods WHERE status = ? ORDER BY id`, StatusConverting)
	if err != nil {
		return fmt.Errorf("list converting vods: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("list converting vods: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list converting vods: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	res, err := jobs.River().JobList(ctx, river.NewJobListParams().Kinds(ConvertKind).First(10_000))
	if err != nil {
		return fmt.Errorf("list conversion jobs: %w", err)
	}
	live, interrupted := map[int64]bool{}, map[int64]bool{}
	for _, j := range res.Jobs {
		var args ConvertVODArgs
		if json.Unmarshal(j.EncodedArgs, &args) != nil {
			continue
		}
		interrupted[args.VODID] = interrupted[args.VODID] || args.Interrupted
		if slices.Contains(liveJobStates, j.State) {
			live[args.VODID] = true
		}
	}
	var errs []error
	for _, id := range ids {
		if live[id] {
			continue
		}
		c.logger.Warn("queueing again a conversion that has no job", "vod_id", id)
		if _, err := jobs.Insert(ctx, ConvertVODArgs{VODID: id, Interrupted: interrupted[id]}, nil); err != nil {
			errs = append(errs, fmt.Errorf("queue conversion of vod %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// recoverVOD recovers one VOD left capturing.
func (c *Converter) recoverVOD(ctx context.Context, jobs *job.Service, id int64) error {
	v, err := c.lib.GetVOD(ctx, id)
	if err != nil {
		return err
	}
	dir, err := VODDir(c.cfg.StorageDir, v.ChannelName, v.Basename)
	if err != nil {
		return err
	}
	p := newVODPaths(dir, v.Basename)
	parts, err := findParts(dir, v.Basename)
	if err != nil {
		return err
	}
	var last time.Time
	for _, pt := range parts {
		if pt.size > 0 && pt.mod.After(last) {
			last = pt.mod
		}
	}
	if last.IsZero() {
		return c.recoverEmpty(ctx, v, p)
	}
	c.logger.Warn("recovering interrupted capture", "vod_id", v.ID, "basename", v.Basename, "parts", len(parts))
	return c.lib.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := getVOD(ctx, tx, v.ID)
		if err != nil {
			return err
		}
		if cur.Status != StatusCapturing {
			return nil // recovered meanwhile
		}
		if cur.EndedAt == nil {
			end := last.UTC().Truncate(time.Millisecond)
			if end.Before(cur.StartedAt) {
				end = cur.StartedAt
			}
			cur.EndedAt = &end
		}
		if _, err := c.bus.Publish(ctx, tx, event.Alert{Level: event.LevelWarning, Text: fmt.Sprintf(
			"lsdvr stopped while capturing %s (%s); converting the %d part(s) recorded, the VOD will be marked interrupted",
			cur.ChannelName, cur.Basename, len(parts))}); err != nil {
			return err
		}
		if _, err := c.bus.Publish(ctx, tx, event.EndCapture{VOD: cur, Success: false, Reason: ReasonStoppedDuringCapture}); err != nil {
			return err
		}
		if _, err := c.lib.markConverting(ctx, tx, cur.ID, *cur.EndedAt); err != nil {
			return err
		}
		_, err = jobs.InsertTx(ctx, tx, ConvertVODArgs{VODID: cur.ID, Interrupted: true}, nil)
		return err
	})
}

// recoverEmpty fails a VOD left capturing that recorded nothing.
func (c *Converter) recoverEmpty(ctx context.Context, v dvr.VOD, p vodPaths) error {
	c.logger.Warn("interrupted capture recorded nothing", "vod_id", v.ID, "basename", v.Basename)
	files, err := listFiles(p)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.SizeBytes
	}
	return c.lib.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := getVOD(ctx, tx, v.ID)
		if err != nil {
			return err
		}
		if cur.Status != StatusCapturing {
			return nil
		}
		ended := cur.StartedAt
		if cur.EndedAt != nil {
			ended = *cur.EndedAt
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vod_files WHERE vod_id = ?`, cur.ID); err != nil {
			return fmt.Errorf("replace vod files: %w", err)
		}
		for _, f := range files {
			if _, err := tx.ExecContext(ctx, `INSERT INTO vod_files (vod_id, name, kind, size_bytes) VALUES (?, ?, ?, ?)`,
				cur.ID, f.Name, f.Kind, f.SizeBytes); err != nil {
				return fmt.Errorf("insert vod file: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE vods SET status = ?, ended_at = ?, size_bytes = ?, updated_at = ? WHERE id = ?`,
			StatusFailed, store.UnixMilli(ended), total, store.UnixMilli(c.lib.nowMilli()), cur.ID); err != nil {
			return fmt.Errorf("fail vod: %w", err)
		}
		if cur, err = getVOD(ctx, tx, cur.ID); err != nil {
			return err
		}
		for _, d := range []event.Data{
			event.Alert{Level: event.LevelWarning, Text: fmt.Sprintf(
				"lsdvr stopped while capturing %s (%s) before anything was recorded; the VOD is marked failed", cur.ChannelName, cur.Basename)},
			event.EndCapture{VOD: cur, Success: false, Reason: ReasonStoppedBeforeData},
			event.VODUpdated{VOD: cur},
			event.Notify{Title: "Recording of " + cur.ChannelName + " failed", Category: "capture_failed",
				Body: fmt.Sprintf("%s: %s.", cur.Basename, ReasonStoppedBeforeData)},
			event.EndDownload{VOD: cur},
		} {
			if _, err := c.bus.Publish(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
}
