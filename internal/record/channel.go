package record

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Channel settings: defaults and limits.
const (
	DefaultQuality      = "best"
	DefaultPollInterval = 60 // seconds
	MinPollInterval     = 15 // seconds
	MaxURLLen           = 2048
	maxQualityLen       = 100
	maxKeepGB           = 1e6
)

// Providers.
const (
	ProviderStream = "stream" // any URL streamlink or ffmpeg can open
	ProviderTwitch = "twitch"
)

// Capture backends.
const (
	BackendAuto       = "auto"
	BackendStreamlink = "streamlink"
	BackendFFmpeg     = "ffmpeg"
)

// ChannelParams creates a channel. Zero values take the defaults: quality
// "best", backend "auto", poll every 60 s, enabled, no retention limit.
type ChannelParams struct {
	Name            string  `json:"name"`
	URL             string  `json:"url"`
	Quality         string  `json:"quality,omitempty"`
	Backend         string  `json:"backend,omitempty"`
	PollIntervalSec int     `json:"poll_interval_sec,omitempty"` // seconds; at least MinPollInterval
	Enabled         *bool   `json:"enabled,omitempty"`           // nil: true
	KeepLast        int     `json:"keep_last,omitempty"`         // 0: no limit
	KeepGB          float64 `json:"keep_gb,omitempty"`           // gigabytes of 10^9 bytes; 0: no limit
}

// ChannelPatch changes a channel: nil fields are left as they are. The name
// can change only while the channel has no VODs, since it names their
// storage folder.
type ChannelPatch struct {
	Name            *string  `json:"name,omitempty"`
	URL             *string  `json:"url,omitempty"`
	Quality         *string  `json:"quality,omitempty"`
	Backend         *string  `json:"backend,omitempty"`
	PollIntervalSec *int     `json:"poll_interval_sec,omitempty"`
	Enabled         *bool    `json:"enabled,omitempty"`
	KeepLast        *int     `json:"keep_last,omitempty"`
	KeepGB          *float64 `json:"keep_gb,omitempty"`
}

// ValidateChannelURL checks a channel address and returns its provider: an
// http or https URL with a host is a "stream" channel. Errors are EINVALID
// and name the field.
func ValidateChannelURL(raw string) (string, error) {
	if raw == "" {
		return "", dvr.Errorf(dvr.EINVALID, "url is required")
	}
	if len(raw) > MaxURLLen {
		return "", dvr.Errorf(dvr.EINVALID, "url must be at most %d characters, got %d", MaxURLLen, len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", dvr.Errorf(dvr.EINVALID, "url is not a valid URL: %v", errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", dvr.Errorf(dvr.EINVALID, "url must start with http:// or https://, got %q", raw)
	}
	if u.Hostname() == "" {
		return "", dvr.Errorf(dvr.EINVALID, "url must have a host, got %q", raw)
	}
	return ProviderStream, nil
}

// validateSettings checks the settings every channel has, after defaults.
func validateSettings(c *dvr.Channel) error {
	if len(c.Quality) > maxQualityLen || strings.ContainsFunc(c.Quality, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return dvr.Errorf(dvr.EINVALID, "quality must be at most %d printable characters", maxQualityLen)
	}
	switch c.Backend {
	case BackendAuto, BackendStreamlink, BackendFFmpeg:
	default:
		return dvr.Errorf(dvr.EINVALID, "backend must be one of auto, streamlink, ffmpeg, got %q", c.Backend)
	}
	if c.PollIntervalSec < MinPollInterval {
		return dvr.Errorf(dvr.EINVALID, "poll_interval_sec must be at least %d seconds, got %d", MinPollInterval, c.PollIntervalSec)
	}
	if c.KeepLast < 0 {
		return dvr.Errorf(dvr.EINVALID, "keep_last must be 0 (no limit) or more, got %d", c.KeepLast)
	}
	if c.KeepGB < 0 || c.KeepGB > maxKeepGB || math.IsNaN(c.KeepGB) {
		return dvr.Errorf(dvr.EINVALID, "keep_gb must be between 0 (no limit) and %g, got %g", maxKeepGB, c.KeepGB)
	}
	return nil
}

// CreateChannel validates p, stores the channel and publishes
// channel_updated in the same transaction. Errors: EINVALID for bad
// settings, ECONFLICT when the name is taken.
func (l *Library) CreateChannel(ctx context.Context, p ChannelParams) (dvr.Channel, error) {
	name, err := SanitizeName(p.Name)
	if err != nil {
		return dvr.Channel{}, err
	}
	provider, err := ValidateChannelURL(p.URL)
	if err != nil {
		return dvr.Channel{}, err
	}
	now := l.nowMilli()
	c := dvr.Channel{
		Name: name, Provider: provider, URL: p.URL, Quality: p.Quality, Backend: p.Backend,
		PollIntervalSec: p.PollIntervalSec, Enabled: p.Enabled == nil || *p.Enabled,
		KeepLast: p.KeepLast, KeepGB: p.KeepGB, CreatedAt: now, UpdatedAt: now,
	}
	if c.Quality == "" {
		c.Quality = DefaultQuality
	}
	if c.Backend == "" {
		c.Backend = BackendAuto
	}
	if c.PollIntervalSec == 0 {
		c.PollIntervalSec = DefaultPollInterval
	}
	if err := validateSettings(&c); err != nil {
		return dvr.Channel{}, err
	}
	err = l.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO channels (name, provider, url, quality, backend, poll_interval_sec,
			enabled, keep_last, keep_gb, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Name, c.Provider, c.URL, c.Quality, c.Backend, c.PollIntervalSec, boolInt(c.Enabled),
			c.KeepLast, c.KeepGB, store.UnixMilli(now), store.UnixMilli(now))
		if store.IsUniqueViolation(err) {
			return dvr.Errorf(dvr.ECONFLICT, "a channel named %q already exists", c.Name)
		}
		if err != nil {
			return fmt.Errorf("insert channel: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert channel: %w", err)
		}
		_, err = l.bus.Publish(ctx, tx, event.ChannelUpdated{Channel: c})
		return err
	})
	if err != nil {
		return dvr.Channel{}, err
	}
	return c, nil
}

const channelColumns = `id, name, provider, url, quality, backend, poll_interval_sec, enabled,
	keep_last, keep_gb, is_live, title, category, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanChannel(s scanner) (dvr.Channel, error) {
	var (
		c                dvr.Channel
		enabled, live    int
		created, updated int64
	)
	err := s.Scan(&c.ID, &c.Name, &c.Provider, &c.URL, &c.Quality, &c.Backend, &c.PollIntervalSec, &enabled,
		&c.KeepLast, &c.KeepGB, &live, &c.Title, &c.Category, &created, &updated)
	if err != nil {
		return dvr.Channel{}, err
	}
	c.Enabled, c.IsLive = enabled != 0, live != 0
	c.CreatedAt, c.UpdatedAt = store.FromMilli(created), store.FromMilli(updated)
	return c, nil
}

func getChannel(ctx context.Context, q store.Querier, where string, arg any) (dvr.Channel, error) {
	c, err := scanChannel(q.QueryRowContext(ctx, `SELECT `+channelColumns+` FROM channels WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return dvr.Channel{}, dvr.Errorf(dvr.ENOTFOUND, "channel %v not found", arg)
	}
	if err != nil {
		return dvr.Channel{}, fmt.Errorf("get channel: %w", err)
	}
	return c, nil
}

// GetChannel returns the channel with the given id, or an ENOTFOUND error.
func (l *Library) GetChannel(ctx context.Context, id int64) (dvr.Channel, error) {
	return getChannel(ctx, l.db.Read, "id = ?", id)
}

// GetChannelByName returns the channel with the given name (matched after
// lowercasing), or an ENOTFOUND error.
func (l *Library) GetChannelByName(ctx context.Context, name string) (dvr.Channel, error) {
	clean, err := SanitizeName(name)
	if err != nil {
		return dvr.Channel{}, dvr.Errorf(dvr.ENOTFOUND, "channel %q not found", name)
	}
	return getChannel(ctx, l.db.Read, "name = ?", clean)
}

// ListChannels returns every channel ordered by name.
func (l *Library) ListChannels(ctx context.Context) ([]dvr.Channel, error) {
	rows, err := l.db.Read.QueryContext(ctx, `SELECT `+channelColumns+` FROM channels ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	var out []dvr.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return out, nil
}

// UpdateChannel applies p (PATCH semantics) and publishes channel_updated in
// the same transaction when anything changed. Errors: ENOTFOUND, EINVALID,
// ECONFLICT (name taken, or renaming a channel that has VODs).
func (l *Library) UpdateChannel(ctx context.Context, id int64, p ChannelPatch) (dvr.Channel, error) {
	var out dvr.Channel
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := getChannel(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		old := c
		if p.Name != nil {
			name, err := SanitizeName(*p.Name)
			if err != nil {
				return err
			}
			if name != c.Name {
				n, err := countVODs(ctx, tx, c.ID)
				if err != nil {
					return err
				}
				if n > 0 {
					return dvr.Errorf(dvr.ECONFLICT, "channel %q has %d VODs stored under its name; it cannot be renamed", c.Name, n)
				}
			}
			c.Name = name
		}
		if p.URL != nil {
			if c.Provider, err = ValidateChannelURL(*p.URL); err != nil {
				return err
			}
			c.URL = *p.URL
		}
		if p.Quality != nil {
			c.Quality = *p.Quality
			if c.Quality == "" {
				c.Quality = DefaultQuality
			}
		}
		if p.Backend != nil {
			c.Backend = *p.Backend
		}
		if p.PollIntervalSec != nil {
			c.PollIntervalSec = *p.PollIntervalSec
		}
		if p.Enabled != nil {
			c.Enabled = *p.Enabled
		}
		if p.KeepLast != nil {
			c.KeepLast = *p.KeepLast
		}
		if p.KeepGB != nil {
			c.KeepGB = *p.KeepGB
		}
		if err := validateSettings(&c); err != nil {
			return err
		}
		if c == old {
			out = c
			return nil
		}
		c.UpdatedAt = l.nowMilli()
		_, err = tx.ExecContext(ctx, `UPDATE channels SET name = ?, provider = ?, url = ?, quality = ?, backend = ?,
			poll_interval_sec = ?, enabled = ?, keep_last = ?, keep_gb = ?, updated_at = ? WHERE id = ?`,
			c.Name, c.Provider, c.URL, c.Quality, c.Backend, c.PollIntervalSec, boolInt(c.Enabled),
			c.KeepLast, c.KeepGB, store.UnixMilli(c.UpdatedAt), c.ID)
		if store.IsUniqueViolation(err) {
			return dvr.Errorf(dvr.ECONFLICT, "a channel named %q already exists", c.Name)
		}
		if err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		out = c
		_, err = l.bus.Publish(ctx, tx, event.ChannelUpdated{Channel: c})
		return err
	})
	return out, err
}

// SetLive records the live state reported by the watcher and publishes
// channel_updated only when live, title or category changed. It returns the
// channel as it is now and whether it changed. Errors: ENOTFOUND.
func (l *Library) SetLive(ctx context.Context, id int64, live bool, title, category string) (dvr.Channel, bool, error) {
	var (
		out     dvr.Channel
		changed bool
	)
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := getChannel(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		out = c
		if c.IsLive == live && c.Title == title && c.Category == category {
			return nil
		}
		c.IsLive, c.Title, c.Category, c.UpdatedAt = live, title, category, l.nowMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET is_live = ?, title = ?, category = ?, updated_at = ? WHERE id = ?`,
			boolInt(live), title, category, store.UnixMilli(c.UpdatedAt), id); err != nil {
			return fmt.Errorf("update channel live state: %w", err)
		}
		out, changed = c, true
		_, err = l.bus.Publish(ctx, tx, event.ChannelUpdated{Channel: c})
		return err
	})
	if err != nil {
		return dvr.Channel{}, false, err
	}
	return out, changed, nil
}

// DeleteChannel removes a channel. A channel with VODs is removed only when
// deleteVODs is true; its VODs are then deleted as by DeleteVOD (reason
// "channel_removed"), in the same transaction, and their folders are removed
// after the commit. The last event is channel_updated with deleted_at set.
// Errors: ENOTFOUND; ECONFLICT when VODs exist and deleteVODs is false, or
// when one of them is still being captured or converted.
func (l *Library) DeleteChannel(ctx context.Context, id int64, deleteVODs bool) error {
	var (
		dirs  []string
		chDir string
	)
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		dirs = nil
		c, err := getChannel(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		if chDir, err = ChannelDir(l.storage, c.Name); err != nil {
			return fmt.Errorf("channel %d folder: %w", id, err)
		}
		n, err := countVODs(ctx, tx, id)
		if err != nil {
			return err
		}
		if n > 0 && !deleteVODs {
			return dvr.Errorf(dvr.ECONFLICT, "channel %q has %d VODs; delete them too with delete_vods=true", c.Name, n)
		}
		if n > 0 {
			ids, err := vodIDsOfChannel(ctx, tx, id)
			if err != nil {
				return err
			}
			for _, vid := range ids {
				dir, err := l.deleteVODTx(ctx, tx, vid, ReasonChannelRemoved)
				if err != nil {
					return err
				}
				dirs = append(dirs, dir)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM channels WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete channel: %w", err)
		}
		deleted := l.nowMilli()
		c.DeletedAt, c.UpdatedAt = &deleted, deleted
		_, err = l.bus.Publish(ctx, tx, event.ChannelUpdated{Channel: c})
		return err
	})
	if err != nil {
		return err
	}
	l.removeDirs(ctx, dirs)
	// The channel folder goes too when nothing else is left in it; files a
	// person put there are not ours to delete.
	if chDir != "" {
		if err := os.Remove(chDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			l.logger.Info("channel folder kept", "dir", chDir, "err", err)
		}
	}
	return nil
}

func countVODs(ctx context.Context, q store.Querier, channelID int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM vods WHERE channel_id = ?`, channelID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count vods: %w", err)
	}
	return n, nil
}

func vodIDsOfChannel(ctx context.Context, q store.Querier, channelID int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM vods WHERE channel_id = ? ORDER BY started_at, id`, channelID)
	if err != nil {
		return nil, fmt.Errorf("list channel vods: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list channel vods: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// timePtr converts a nullable stored time.
func timePtr(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := store.FromMilli(ms.Int64)
	return &t
}
