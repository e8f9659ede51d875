// Package record is lsdvr's automator: it keeps the library of channels and
// their recordings (VODs), turns broadcasts into files, and applies
// retention.
//
// # Library
//
// Library owns the channels, vods, vod_chapters and vod_files tables. Every
// change commits together with its event (channel_updated, vod_updated,
// chapter_update, vod_removed) in one transaction, so a receiver never hears
// of a change that did not happen, nor misses one that did.
//
// # Storage
//
// A VOD's files live in <storage>/<channel>/<basename>/. Names that reach a
// path are checked (SanitizeName, VODDir) and every path is proven to stay
// inside the storage folder, symlinks included.
package record

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Library is the catalogue of channels and VODs. It is safe for concurrent
// use.
type Library struct {
	db      *store.DB
	bus     *event.Bus
	storage string
	now     func() time.Time
	logger  *slog.Logger

	// removeAllFunc deletes a VOD folder (os.RemoveAll); tests replace it to
	// see how a failed removal is reported.
	removeAllFunc func(path string) error
}

// NewLibrary returns a Library over db that publishes on bus and keeps media
// under storageDir (<data>/storage). now is the clock (nil: time.Now).
func NewLibrary(db *store.DB, bus *event.Bus, storageDir string, now func() time.Time) *Library {
	if now == nil {
		now = time.Now
	}
	return &Library{db: db, bus: bus, storage: storageDir, now: now, logger: slog.Default().With("module", "record"),
		removeAllFunc: os.RemoveAll}
}

// StorageDir returns the folder VODs are stored under.
func (l *Library) StorageDir() string { return l.storage }

// nowMilli is the current time as stored: UTC, millisecond precision.
func (l *Library) nowMilli() time.Time { return l.now().UTC().Truncate(time.Millisecond) }

// alert publishes an operator alert on its own; used where the state change
// has already committed and only a side effect (file removal) failed.
func (l *Library) alert(ctx context.Context, text string) {
	if _, err := l.bus.PublishNow(context.WithoutCancel(ctx), event.Alert{Text: text, Level: event.LevelError}); err != nil {
		l.logger.Error("publish alert", "text", text, "err", err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
