package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/store"
)

// claimStart records that the VOD's conversion has started and publishes
// start_convert in the same transaction, the first time only: a retried or
// resumed job finds the row and stays quiet. It returns the VOD as it is.
func (c *Converter) claimStart(ctx context.Context, vodID int64) (dvr.VOD, error) {
	var v dvr.VOD
	err := c.lib.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if v, err = getVOD(ctx, tx, vodID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO vod_conversions (vod_id, started_at) VALUES (?, ?)
			ON CONFLICT (vod_id) DO NOTHING`, vodID, store.UnixMilli(c.cfg.Now()))
		if err != nil {
			return fmt.Errorf("record conversion start: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record conversion start: %w", err)
		}
		if n == 0 {
			return nil
		}
		_, err = c.bus.Publish(ctx, tx, event.StartConvert{VOD: v})
		return err
	})
	return v, err
}

// outcome is how a conversion ended, as commitOutcome records it.
type outcome struct {
	status   string
	duration time.Duration // of the MP4; 0 keeps the stored one
	files    []VODFile
	reason   string // why it failed; empty on success
	alert    bool   // publish the reason as an alert too
}

// finish writes the sidecars, deletes the parts (unless KeepTS) and records
// the finished VOD with its events. It runs to the end even when ctx ends:
// the MP4 is verified and in place, and the record must say so.
func (c *Converter) finish(ctx context.Context, v dvr.VOD, p vodPaths, dur time.Duration, interrupted bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), convertFinalizeTimeout)
	defer cancel()
	if !c.cfg.KeepTS {
		parts, err := findParts(p.dir, v.Basename)
		if err != nil {
			return err
		}
		for _, pt := range parts {
			// A part that cannot be removed stays listed with the VOD.
			if err := os.Remove(pt.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				c.logger.Warn("remove capture part", "vod_id", v.ID, "part", pt.name, "err", err)
			}
		}
	}
	status := StatusFinalized
	if interrupted {
		status = StatusInterrupted
	}
	chapters := mediaChapters(v)
	if len(chapters) > 0 {
		if err := writeFileAtomic(p.vtt, []byte(media.WebVTTChapters(chapters, dur))); err != nil {
			return err
		}
		if err := writeFileAtomic(p.csv, []byte(media.LosslessCutCSV(chapters, dur))); err != nil {
			return err
		}
	}
	files, err := listFiles(p)
	if err != nil {
		return err
	}
	info := newVODInfo(v, status, dur, files, c.cfg.Now())
	if err := writeInfo(p.info, info); err != nil {
		return err
	}
	if files, err = listFiles(p); err != nil {
		return err
	}
	_, err = c.commitOutcome(ctx, v.ID, outcome{status: status, duration: dur, files: files})
	if err == nil {
		c.logger.Info("converted vod", "vod_id", v.ID, "basename", v.Basename, "status", status, "duration", dur)
	}
	return err
}

// recordFailure cleans up after a failed conversion, keeping the parts, and
// records it. It returns an error wrapping ErrConvertFailed once recorded.
func (c *Converter) recordFailure(ctx context.Context, v dvr.VOD, p vodPaths, f failure) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), convertFinalizeTimeout)
	defer cancel()
	removeQuietly(p.tmp, p.list, p.metadata)
	c.logger.Error("conversion failed", "vod_id", v.ID, "basename", v.Basename, "reason", f.reason)
	files, err := listFiles(p)
	if err != nil {
		return err
	}
	if _, err := c.commitOutcome(ctx, v.ID, outcome{status: StatusFailed, files: files, reason: f.reason, alert: f.alert}); err != nil {
		return err
	}
	return fmt.Errorf("convert vod %d: %w: %s", v.ID, ErrConvertFailed, f.reason)
}

// listFiles lists the VOD's files that exist, with their kinds and sizes:
// what SetFiles would be given.
func listFiles(p vodPaths) ([]VODFile, error) {
	var files []VODFile
	add := func(path, kind string) error {
		info, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("stat %s: %w", filepath.Base(path), err)
		}
		files = append(files, VODFile{Name: filepath.Base(path), Kind: kind, SizeBytes: info.Size()})
		return nil
	}
	for _, f := range []struct{ path, kind string }{
		{p.mp4, FileMP4}, {p.vtt, FileChaptersVTT}, {p.csv, FileChaptersCSV}, {p.info, FileInfoJSON},
		{p.captureLog, FileLog}, {p.convertLog, FileLog},
	} {
		if err := add(f.path, f.kind); err != nil {
			return nil, err
		}
	}
	parts, err := findParts(p.dir, p.basename)
	if err != nil {
		return nil, err
	}
	for _, pt := range parts {
		files = append(files, VODFile{Name: pt.name, Kind: FileCapturePart, SizeBytes: pt.size})
	}
	return files, nil
}

// commitOutcome records the end of a conversion in one transaction: the
// VOD's files, size, status and duration, then end_convert, vod_updated,
// (on failure) notify and maybe alert, and end_download. A receiver thus
// never sees a finished conversion whose record is not final. Errors:
// ENOTFOUND; ECONFLICT when the VOD is no longer converting.
func (c *Converter) commitOutcome(ctx context.Context, vodID int64, o outcome) (dvr.VOD, error) {
	var (
		out   dvr.VOD
		total int64
	)
	for _, f := range o.files {
		if err := checkFileName(f.Name); err != nil {
			return dvr.VOD{}, err
		}
		if !validKind(f.Kind) {
			return dvr.VOD{}, fmt.Errorf("file %s: unknown kind %q", f.Name, f.Kind)
		}
		total += f.SizeBytes
	}
	success := o.reason == ""
	err := c.lib.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVOD(ctx, tx, vodID)
		if err != nil {
			return err
		}
		if v.Status != StatusConverting {
			return dvr.Errorf(dvr.ECONFLICT, "vod %d (%s) is %s, no longer converting", v.ID, v.Basename, v.Status)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vod_files WHERE vod_id = ?`, vodID); err != nil {
			return fmt.Errorf("replace vod files: %w", err)
		}
		for _, f := range o.files {
			if _, err := tx.ExecContext(ctx, `INSERT INTO vod_files (vod_id, name, kind, size_bytes) VALUES (?, ?, ?, ?)`,
				vodID, f.Name, f.Kind, f.SizeBytes); err != nil {
				return fmt.Errorf("insert vod file: %w", err)
			}
		}
		durationSec := v.DurationSec
		if o.duration > 0 {
			durationSec = o.duration.Seconds()
		}
		ended := v.StartedAt.Add(o.duration)
		if v.EndedAt != nil {
			ended = *v.EndedAt
		}
		now := store.UnixMilli(c.lib.nowMilli())
		if _, err := tx.ExecContext(ctx, `UPDATE vods SET status = ?, duration_sec = ?, ended_at = ?, size_bytes = ?,
			updated_at = ? WHERE id = ?`, o.status, durationSec, store.UnixMilli(ended), total, now, vodID); err != nil {
			return fmt.Errorf("finish vod: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE vod_conversions SET finished_at = ?, success = ?, reason = ? WHERE vod_id = ?`,
			store.UnixMilli(c.cfg.Now()), boolInt(success), o.reason, vodID); err != nil {
			return fmt.Errorf("record conversion end: %w", err)
		}
		if out, err = getVOD(ctx, tx, vodID); err != nil {
			return err
		}
		data := []event.Data{
			event.EndConvert{VOD: out, Success: success, Reason: o.reason},
			event.VODUpdated{VOD: out},
		}
		if !success {
			data = append(data, event.Notify{
				Title:    "Recording of " + out.ChannelName + " failed",
				Body:     fmt.Sprintf("%s could not be converted: %s. The capture parts are kept in its folder.", out.Basename, o.reason),
				Category: "capture_failed",
			})
			if o.alert {
				data = append(data, event.Alert{Text: fmt.Sprintf("Converting %s (%s) failed: %s", out.Basename, out.ChannelName, o.reason), Level: event.LevelError})
			}
		}
		data = append(data, event.EndDownload{VOD: out})
		for _, d := range data {
			if _, err := c.bus.Publish(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return dvr.VOD{}, err
	}
	return out, nil
}
