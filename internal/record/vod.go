package record

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// VOD statuses.
const (
	StatusCapturing   = "capturing"
	StatusConverting  = "converting"
	StatusFinalized   = "finalized"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
)

// Deletion reasons carried by vod_removed.
const (
	ReasonManual         = "manual"
	ReasonRetention      = "retention"
	ReasonChannelRemoved = "channel_removed"
)

// BasenameTimeLayout formats a VOD's UTC start in its basename.
const BasenameTimeLayout = "20060102T150405Z"

// maxTitleLen bounds stored titles and categories, in bytes.
const maxTitleLen = 1000

func validStatus(s string) bool {
	switch s {
	case StatusCapturing, StatusConverting, StatusFinalized, StatusInterrupted, StatusFailed:
		return true
	}
	return false
}

// inProgress reports whether a VOD of this status is still being written.
func inProgress(status string) bool { return status == StatusCapturing || status == StatusConverting }

// CreateVODParams starts a VOD.
type CreateVODParams struct {
	ChannelID int64
	Title     string
	StartedAt time.Time // zero: now
}

// CreateVOD stores a new VOD in status capturing and publishes vod_updated
// in the same transaction. Its basename is <channel>_<UTC start as
// 20060102T150405Z>, with _2, _3, ... appended when that name is taken. The
// folder is not created. Errors: ENOTFOUND (channel), EINVALID.
func (l *Library) CreateVOD(ctx context.Context, p CreateVODParams) (dvr.VOD, error) {
	if len(p.Title) > maxTitleLen {
		return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "title must be at most %d bytes", maxTitleLen)
	}
	now := l.nowMilli()
	start := p.StartedAt.UTC().Truncate(time.Millisecond)
	if p.StartedAt.IsZero() {
		start = now
	}
	var v dvr.VOD
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := getChannel(ctx, tx, "id = ?", p.ChannelID)
		if err != nil {
			return err
		}
		base := c.Name + "_" + start.Format(BasenameTimeLayout)
		basename := base
		for i := 2; ; i++ {
			var taken int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM vods WHERE basename = ?`, basename).Scan(&taken); err != nil {
				return fmt.Errorf("check basename: %w", err)
			}
			if taken == 0 {
				break
			}
			basename = fmt.Sprintf("%s_%d", base, i)
		}
		if _, err := VODDir(l.storage, c.Name, basename); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO vods (channel_id, basename, title, status, started_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.ID, basename, p.Title, StatusCapturing,
			store.UnixMilli(start), store.UnixMilli(now), store.UnixMilli(now))
		if err != nil {
			return fmt.Errorf("insert vod: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert vod: %w", err)
		}
		v = dvr.VOD{ID: id, Basename: basename, ChannelID: c.ID, ChannelName: c.Name, Title: p.Title,
			Status: StatusCapturing, StartedAt: start}
		_, err = l.bus.Publish(ctx, tx, event.VODUpdated{VOD: v})
		return err
	})
	if err != nil {
		return dvr.VOD{}, err
	}
	return v, nil
}

const vodColumns = `v.id, v.basename, v.channel_id, c.name, v.title, v.status, v.started_at, v.ended_at,
	v.duration_sec, v.size_bytes, v.protected`

func scanVOD(s scanner) (dvr.VOD, error) {
	var (
		v         dvr.VOD
		started   int64
		ended     sql.NullInt64
		protected int
	)
	if err := s.Scan(&v.ID, &v.Basename, &v.ChannelID, &v.ChannelName, &v.Title, &v.Status, &started, &ended,
		&v.DurationSec, &v.SizeBytes, &protected); err != nil {
		return dvr.VOD{}, err
	}
	v.StartedAt, v.EndedAt, v.Protected = store.FromMilli(started), timePtr(ended), protected != 0
	return v, nil
}

// getVOD loads one VOD with its chapters and files.
func getVOD(ctx context.Context, q store.Querier, id int64) (dvr.VOD, error) {
	v, err := scanVOD(q.QueryRowContext(ctx, `SELECT `+vodColumns+` FROM vods v JOIN channels c ON c.id = v.channel_id WHERE v.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return dvr.VOD{}, dvr.Errorf(dvr.ENOTFOUND, "vod %d not found", id)
	}
	if err != nil {
		return dvr.VOD{}, fmt.Errorf("get vod: %w", err)
	}
	vods := []dvr.VOD{v}
	if err := loadDetails(ctx, q, vods); err != nil {
		return dvr.VOD{}, err
	}
	return vods[0], nil
}

// GetVOD returns the VOD with its chapters and files, or an ENOTFOUND error.
func (l *Library) GetVOD(ctx context.Context, id int64) (dvr.VOD, error) {
	return getVOD(ctx, l.db.Read, id)
}

// VODPatch changes a VOD's record; nil fields are left as they are.
type VODPatch struct {
	Title       *string
	Status      *string
	EndedAt     *time.Time
	DurationSec *float64
	SizeBytes   *int64
}

// UpdateVOD applies p and publishes vod_updated in the same transaction when
// anything changed. Errors: ENOTFOUND, EINVALID (naming the field).
func (l *Library) UpdateVOD(ctx context.Context, id int64, p VODPatch) (dvr.VOD, error) {
	if p.Title != nil && len(*p.Title) > maxTitleLen {
		return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "title must be at most %d bytes", maxTitleLen)
	}
	if p.Status != nil && !validStatus(*p.Status) {
		return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "status must be one of capturing, converting, finalized, interrupted, failed; got %q", *p.Status)
	}
	if p.DurationSec != nil && (*p.DurationSec < 0 || math.IsNaN(*p.DurationSec) || math.IsInf(*p.DurationSec, 0)) {
		return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "duration_sec must be a finite number of 0 or more, got %v", *p.DurationSec)
	}
	if p.SizeBytes != nil && *p.SizeBytes < 0 {
		return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "size_bytes must be 0 or more, got %d", *p.SizeBytes)
	}
	return l.changeVOD(ctx, id, func(v *dvr.VOD) error {
		if p.Title != nil {
			v.Title = *p.Title
		}
		if p.Status != nil {
			v.Status = *p.Status
		}
		if p.EndedAt != nil {
			t := p.EndedAt.UTC().Truncate(time.Millisecond)
			if t.Before(v.StartedAt) {
				return dvr.Errorf(dvr.EINVALID, "ended_at %s is before started_at %s", t.Format(time.RFC3339), v.StartedAt.Format(time.RFC3339))
			}
			v.EndedAt = &t
		}
		if p.DurationSec != nil {
			v.DurationSec = *p.DurationSec
		}
		if p.SizeBytes != nil {
			v.SizeBytes = *p.SizeBytes
		}
		return nil
	})
}

// SetProtected marks a VOD as protected from retention (or not) and
// publishes vod_updated when that changed. Errors: ENOTFOUND.
func (l *Library) SetProtected(ctx context.Context, id int64, protected bool) (dvr.VOD, error) {
	return l.changeVOD(ctx, id, func(v *dvr.VOD) error {
		v.Protected = protected
		return nil
	})
}

// changeVOD loads a VOD in a transaction, lets fn edit its scalar fields,
// writes them back and publishes vod_updated when they changed.
func (l *Library) changeVOD(ctx context.Context, id int64, fn func(v *dvr.VOD) error) (dvr.VOD, error) {
	var out dvr.VOD
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVOD(ctx, tx, id)
		if err != nil {
			return err
		}
		old := v
		if err := fn(&v); err != nil {
			return err
		}
		out = v
		if sameScalars(old, v) {
			return nil
		}
		var ended sql.NullInt64
		if v.EndedAt != nil {
			ended = sql.NullInt64{Int64: store.UnixMilli(*v.EndedAt), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE vods SET title = ?, status = ?, ended_at = ?, duration_sec = ?,
			size_bytes = ?, protected = ?, updated_at = ? WHERE id = ?`, v.Title, v.Status, ended, v.DurationSec,
			v.SizeBytes, boolInt(v.Protected), store.UnixMilli(l.nowMilli()), id); err != nil {
			return fmt.Errorf("update vod: %w", err)
		}
		_, err = l.bus.Publish(ctx, tx, event.VODUpdated{VOD: v})
		return err
	})
	return out, err
}

func sameScalars(a, b dvr.VOD) bool {
	sameEnd := (a.EndedAt == nil) == (b.EndedAt == nil) && (a.EndedAt == nil || a.EndedAt.Equal(*b.EndedAt))
	return sameEnd && a.Title == b.Title && a.Status == b.Status && a.DurationSec == b.DurationSec &&
		a.SizeBytes == b.SizeBytes && a.Protected == b.Protected
}

// ChapterParams starts a chapter of a VOD.
type ChapterParams struct {
	Title     string
	Category  string
	StartedAt time.Time // zero: now
}

// AddChapter appends a chapter to a VOD (index = number of chapters so far;
// offset = seconds since the VOD started, never negative) and publishes
// chapter_update in the same transaction. Errors: ENOTFOUND, EINVALID.
func (l *Library) AddChapter(ctx context.Context, vodID int64, p ChapterParams) (dvr.Chapter, error) {
	if len(p.Title) > maxTitleLen || len(p.Category) > maxTitleLen {
		return dvr.Chapter{}, dvr.Errorf(dvr.EINVALID, "chapter title and category must be at most %d bytes", maxTitleLen)
	}
	start := p.StartedAt.UTC().Truncate(time.Millisecond)
	if p.StartedAt.IsZero() {
		start = l.nowMilli()
	}
	var ch dvr.Chapter
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVOD(ctx, tx, vodID)
		if err != nil {
			return err
		}
		ch = dvr.Chapter{Index: len(v.Chapters), Title: p.Title, Category: p.Category, StartedAt: start,
			OffsetSec: math.Max(0, start.Sub(v.StartedAt).Seconds())}
		if _, err := tx.ExecContext(ctx, `INSERT INTO vod_chapters (vod_id, idx, title, category, started_at, offset_sec)
			VALUES (?, ?, ?, ?, ?, ?)`, vodID, ch.Index, ch.Title, ch.Category, store.UnixMilli(start), ch.OffsetSec); err != nil {
			return fmt.Errorf("insert chapter: %w", err)
		}
		v.Chapters = append(v.Chapters, ch)
		_, err = l.bus.Publish(ctx, tx, event.ChapterUpdate{Chapter: ch, VOD: v})
		return err
	})
	if err != nil {
		return dvr.Chapter{}, err
	}
	return ch, nil
}

// File kinds of a VOD.
const (
	FileCapturePart = "capture_part"
	FileMP4         = "mp4"
	FileChaptersVTT = "chapters_vtt"
	FileChaptersCSV = "chapters_csv"
	FileInfoJSON    = "info_json"
	FileLog         = "log"
)

// VODFile is one file of a VOD; Name is relative to the VOD's folder.
type VODFile struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	SizeBytes int64  `json:"size_bytes"`
}

func validKind(k string) bool {
	switch k {
	case FileCapturePart, FileMP4, FileChaptersVTT, FileChaptersCSV, FileInfoJSON, FileLog:
		return true
	}
	return false
}

// SetFiles replaces the list of a VOD's files, sets its size to their sum
// and publishes vod_updated, all in one transaction. Names must be relative
// to the VOD folder and stay inside it. Errors: ENOTFOUND, EINVALID.
func (l *Library) SetFiles(ctx context.Context, vodID int64, files []VODFile) (dvr.VOD, error) {
	seen := make(map[string]bool, len(files))
	var total int64
	for _, f := range files {
		if err := checkFileName(f.Name); err != nil {
			return dvr.VOD{}, err
		}
		if !validKind(f.Kind) {
			return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "file %q: kind must be one of capture_part, mp4, chapters_vtt, chapters_csv, info_json, log; got %q", f.Name, f.Kind)
		}
		if f.SizeBytes < 0 {
			return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "file %q: size_bytes must be 0 or more", f.Name)
		}
		if seen[f.Name] {
			return dvr.VOD{}, dvr.Errorf(dvr.EINVALID, "file %q is listed twice", f.Name)
		}
		seen[f.Name] = true
		total += f.SizeBytes
	}
	var out dvr.VOD
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVOD(ctx, tx, vodID)
		if err != nil {
			return err
		}
		for _, f := range files {
			if _, err := FilePath(l.storage, v.ChannelName, v.Basename, f.Name); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vod_files WHERE vod_id = ?`, vodID); err != nil {
			return fmt.Errorf("replace vod files: %w", err)
		}
		v.Files = nil
		for _, f := range files {
			if _, err := tx.ExecContext(ctx, `INSERT INTO vod_files (vod_id, name, kind, size_bytes) VALUES (?, ?, ?, ?)`,
				vodID, f.Name, f.Kind, f.SizeBytes); err != nil {
				return fmt.Errorf("insert vod file: %w", err)
			}
			v.Files = append(v.Files, f.Name)
		}
		v.SizeBytes = total
		if _, err := tx.ExecContext(ctx, `UPDATE vods SET size_bytes = ?, updated_at = ? WHERE id = ?`,
			total, store.UnixMilli(l.nowMilli()), vodID); err != nil {
			return fmt.Errorf("update vod size: %w", err)
		}
		// Reload so Files has the stored (sorted) order.
		if out, err = getVOD(ctx, tx, vodID); err != nil {
			return err
		}
		_, err = l.bus.Publish(ctx, tx, event.VODUpdated{VOD: out})
		return err
	})
	return out, err
}

// DeleteVOD deletes a VOD: its rows and the vod_removed event commit in one
// transaction, then its folder is removed. If the folder cannot be removed
// the deletion stands; the failure is logged and published as an alert.
// reason is carried by vod_removed (ReasonManual when empty). Errors:
// ENOTFOUND; ECONFLICT while the VOD is being captured or converted.
func (l *Library) DeleteVOD(ctx context.Context, id int64, reason string) error {
	if reason == "" {
		reason = ReasonManual
	}
	var dir string
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		dir, err = l.deleteVODTx(ctx, tx, id, reason)
		return err
	})
	if err != nil {
		return err
	}
	l.removeDirs(ctx, []string{dir})
	return nil
}

// deleteVODTx deletes a VOD's rows and publishes vod_removed in tx. It
// returns the folder to remove once tx has committed.
func (l *Library) deleteVODTx(ctx context.Context, tx *store.Tx, id int64, reason string) (string, error) {
	v, err := getVOD(ctx, tx, id)
	if err != nil {
		return "", err
	}
	if inProgress(v.Status) {
		return "", dvr.Errorf(dvr.ECONFLICT, "vod %d (%s) is %s; stop it before deleting it", v.ID, v.Basename, v.Status)
	}
	dir, err := VODDir(l.storage, v.ChannelName, v.Basename)
	if err != nil {
		return "", fmt.Errorf("vod %d folder: %w", id, err)
	}
	// vod_chapters and vod_files go with it (ON DELETE CASCADE).
	if _, err := tx.ExecContext(ctx, `DELETE FROM vods WHERE id = ?`, id); err != nil {
		return "", fmt.Errorf("delete vod: %w", err)
	}
	_, err = l.bus.Publish(ctx, tx, event.VODRemoved{Basename: v.Basename, Channel: v.ChannelName, Reason: reason})
	return dir, err
}

// removeDirs removes VOD folders after their rows are gone; failures are
// reported, not returned, since the deletion itself has committed.
func (l *Library) removeDirs(ctx context.Context, dirs []string) {
	var failed []string
	for _, dir := range dirs {
		if err := l.removeAllFunc(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("remove %s: %w", dir, err)
			l.logger.Error("remove vod folder", "dir", dir, "err", err)
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		l.alert(ctx, "Deleted VODs left files behind; remove them by hand: "+strings.Join(failed, "; "))
	}
}
