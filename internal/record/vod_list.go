package record

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Page sizes of ListVODs.
const (
	DefaultVODLimit = 50
	MaxVODLimit     = 500
)

// ListVODsParams selects a page of VODs, newest first.
type ListVODsParams struct {
	ChannelID int64  // 0: every channel
	Limit     int    // 1..MaxVODLimit; 0: DefaultVODLimit
	Cursor    string // NextCursor of the previous page; "": the first page
}

// VODPage is one page of VODs. NextCursor is empty on the last page.
type VODPage struct {
	Items      []dvr.VOD `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

// cursor is the keyset position after which the next page starts: the last
// VOD's (started_at, id), so VODs that start at the same millisecond are
// neither skipped nor repeated.
type cursor struct {
	startedAt int64
	id        int64
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.startedAt, 10) + "." + strconv.FormatInt(c.id, 10)))
}

func decodeCursor(s string) (cursor, error) {
	bad := dvr.Errorf(dvr.EINVALID, "cursor %q is not valid; use next_cursor from the previous page", s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	a, b, ok := strings.Cut(string(raw), ".")
	if !ok {
		return cursor{}, bad
	}
	var c cursor
	if c.startedAt, err = strconv.ParseInt(a, 10, 64); err != nil {
		return cursor{}, bad
	}
	if c.id, err = strconv.ParseInt(b, 10, 64); err != nil || c.id <= 0 {
		return cursor{}, bad
	}
	return c, nil
}

// ListVODs returns a page of VODs, newest first (by start, then id), each
// with its chapters and files. Chapters and files of the whole page are read
// with one query each. Errors: EINVALID for a bad limit or cursor.
func (l *Library) ListVODs(ctx context.Context, p ListVODsParams) (VODPage, error) {
	if p.Limit == 0 {
		p.Limit = DefaultVODLimit
	}
	if p.Limit < 1 || p.Limit > MaxVODLimit {
		return VODPage{}, dvr.Errorf(dvr.EINVALID, "limit must be between 1 and %d, got %d", MaxVODLimit, p.Limit)
	}
	if p.ChannelID < 0 {
		return VODPage{}, dvr.Errorf(dvr.EINVALID, "channel must be a positive id, got %d", p.ChannelID)
	}
	var (
		where []string
		args  []any
	)
	if p.ChannelID != 0 {
		where = append(where, "v.channel_id = ?")
		args = append(args, p.ChannelID)
	}
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return VODPage{}, err
		}
		where = append(where, "(v.started_at, v.id) < (?, ?)")
		args = append(args, c.startedAt, c.id)
	}
	query := `SELECT ` + vodColumns + ` FROM vods v JOIN channels c ON c.id = v.channel_id`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	// One more row than asked tells whether another page exists.
	query += ` ORDER BY v.started_at DESC, v.id DESC LIMIT ?`
	args = append(args, p.Limit+1)

	rows, err := l.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return VODPage{}, fmt.Errorf("list vods: %w", err)
	}
	defer rows.Close()
	page := VODPage{Items: make([]dvr.VOD, 0, p.Limit)}
	for rows.Next() {
		v, err := scanVOD(rows)
		if err != nil {
			return VODPage{}, fmt.Errorf("list vods: %w", err)
		}
		page.Items = append(page.Items, v)
	}
	if err := rows.Err(); err != nil {
		return VODPage{}, fmt.Errorf("list vods: %w", err)
	}
	rows.Close()
	if len(page.Items) > p.Limit {
		page.Items = page.Items[:p.Limit]
		last := page.Items[p.Limit-1]
		page.NextCursor = cursor{startedAt: store.UnixMilli(last.StartedAt), id: last.ID}.encode()
	}
	if err := loadDetails(ctx, l.db.Read, page.Items); err != nil {
		return VODPage{}, err
	}
	return page, nil
}

// loadDetails fills the chapters and files of vods with one query each.
func loadDetails(ctx context.Context, q store.Querier, vods []dvr.VOD) error {
	if len(vods) == 0 {
		return nil
	}
	index := make(map[int64]int, len(vods))
	marks := make([]string, len(vods))
	args := make([]any, len(vods))
	for i, v := range vods {
		index[v.ID] = i
		marks[i] = "?"
		args[i] = v.ID
	}
	in := "(" + strings.Join(marks, ",") + ")"

	rows, err := q.QueryContext(ctx, `SELECT vod_id, idx, title, category, started_at, offset_sec
		FROM vod_chapters WHERE vod_id IN `+in+` ORDER BY vod_id, idx`, args...)
	if err != nil {
		return fmt.Errorf("load chapters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			vodID   int64
			ch      dvr.Chapter
			started int64
		)
		if err := rows.Scan(&vodID, &ch.Index, &ch.Title, &ch.Category, &started, &ch.OffsetSec); err != nil {
			return fmt.Errorf("load chapters: %w", err)
		}
		ch.StartedAt = store.FromMilli(started)
		v := &vods[index[vodID]]
		v.Chapters = append(v.Chapters, ch)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load chapters: %w", err)
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, `SELECT vod_id, name FROM vod_files WHERE vod_id IN `+in+` ORDER BY vod_id, name`, args...)
	if err != nil {
		return fmt.Errorf("load files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			vodID int64
			name  string
		)
		if err := rows.Scan(&vodID, &name); err != nil {
			return fmt.Errorf("load files: %w", err)
		}
		v := &vods[index[vodID]]
		v.Files = append(v.Files, name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load files: %w", err)
	}
	return nil
}
