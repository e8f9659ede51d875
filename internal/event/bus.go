package event

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Event is a published event: its envelope fields and Body, the exact JSON
// bytes that every webhook and websocket client receives.
type Event struct {
	ID        string
	Seq       int64
	Action    Action
	Timestamp time.Time
	Body      []byte
}

// Envelope is the JSON shape of an event; Data holds the action's payload.
type Envelope struct {
	ID        string          `json:"id"`
	Seq       int64           `json:"seq"`
	Action    Action          `json:"action"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// TimestampFormat is the envelope's timestamp layout: RFC 3339, UTC,
// millisecond precision.
const TimestampFormat = "2006-01-02T15:04:05.000Z07:00"

// TxHook runs inside the publishing transaction, after the event row is
// written; returning an error rolls the whole state change back.
type TxHook interface {
	OnPublish(ctx context.Context, tx *store.Tx, ev *Event) error
}

// TxHookFunc adapts a function to TxHook.
type TxHookFunc func(ctx context.Context, tx *store.Tx, ev *Event) error

// OnPublish calls f.
func (f TxHookFunc) OnPublish(ctx context.Context, tx *store.Tx, ev *Event) error {
	return f(ctx, tx, ev)
}

// Bus publishes events. It is safe for concurrent use; hooks and subscribers
// must be added before the first Publish.
type Bus struct {
	db    *store.DB
	now   func() time.Time
	hooks []TxHook
	subs  []func(*Event)

	entropyMu sync.Mutex
	entropy   *ulid.MonotonicEntropy
}

// NewBus returns a Bus writing to db. now is the clock (nil: time.Now).
func NewBus(db *store.DB, now func() time.Time) *Bus {
	if now == nil {
		now = time.Now
	}
	return &Bus{db: db, now: now, entropy: ulid.Monotonic(rand.Reader, 0)}
}

// AddTxHook registers h to run inside every publishing transaction.
func (b *Bus) AddTxHook(h TxHook) { b.hooks = append(b.hooks, h) }

// Subscribe registers fn to receive every event after its transaction has
// committed, in seq order. fn must not block: it runs while the next
// transaction waits to commit.
func (b *Bus) Subscribe(fn func(*Event)) { b.subs = append(b.subs, fn) }

func (b *Bus) newID(t time.Time) string {
	b.entropyMu.Lock()
	defer b.entropyMu.Unlock()
	return "evt_" + ulid.MustNew(ulid.Timestamp(t), b.entropy).String()
}

// Publish writes data as a new event inside tx and runs the hooks there.
// Subscribers see the event after tx commits; nothing is seen if it rolls
// back.
func (b *Bus) Publish(ctx context.Context, tx *store.Tx, data Data) (*Event, error) {
	payload, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", data.Action(), err)
	}
	now := b.now().UTC().Truncate(time.Millisecond)
	ev := &Event{ID: b.newID(now), Action: data.Action(), Timestamp: now}
	// seq comes from the row, and the body holds seq, so insert first and
	// write the body in the same statement's transaction.
	res, err := tx.ExecContext(ctx, `INSERT INTO events (id, action, created_at, body) VALUES (?, ?, ?, x'')`,
		ev.ID, string(ev.Action), store.UnixMilli(now))
	if err != nil {
		return nil, fmt.Errorf("insert %s event: %w", ev.Action, err)
	}
	if ev.Seq, err = res.LastInsertId(); err != nil {
		return nil, fmt.Errorf("insert %s event: %w", ev.Action, err)
	}
	ev.Body, err = json.Marshal(Envelope{
		ID: ev.ID, Seq: ev.Seq, Action: ev.Action,
		Timestamp: now.Format(TimestampFormat), Data: payload,
	})
	if err != nil {
		return nil, fmt.Errorf("encode %s envelope: %w", ev.Action, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE events SET body = ? WHERE seq = ?`, ev.Body, ev.Seq); err != nil {
		return nil, fmt.Errorf("store %s event: %w", ev.Action, err)
	}
	for _, h := range b.hooks {
		if err := h.OnPublish(ctx, tx, ev); err != nil {
			return nil, fmt.Errorf("publish %s: %w", ev.Action, err)
		}
	}
	if len(b.subs) > 0 {
		tx.AfterCommit(func() {
			for _, s := range b.subs {
				s(ev)
			}
		})
	}
	return ev, nil
}

// PublishNow publishes data in a transaction of its own.
func (b *Bus) PublishNow(ctx context.Context, data Data) (*Event, error) {
	var ev *Event
	err := b.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ev, err = b.Publish(ctx, tx, data)
		return err
	})
	return ev, err
}

// ListParams filters List. Zero values mean: from the start, 100 events, all
// actions.
type ListParams struct {
	After   int64    // only events with seq > After
	Limit   int      // at most this many (1..1000; default 100)
	Actions []Action // only these actions; empty means all
}

// MaxListLimit is the largest page List returns.
const MaxListLimit = 1000

// List returns events from the log, oldest first. It reads from the
// read-only pool.
func (b *Bus) List(ctx context.Context, p ListParams) ([]*Event, error) {
	return List(ctx, b.db.Read, p)
}

// List reads events from q; see Bus.List.
func List(ctx context.Context, q store.Querier, p ListParams) ([]*Event, error) {
	if p.Limit == 0 {
		p.Limit = 100
	}
	if p.Limit < 1 || p.Limit > MaxListLimit {
		return nil, dvr.Errorf(dvr.EINVALID, "limit must be between 1 and %d, got %d", MaxListLimit, p.Limit)
	}
	if p.After < 0 {
		return nil, dvr.Errorf(dvr.EINVALID, "after must be a seq of 0 or more, got %d", p.After)
	}
	query := `SELECT seq, id, action, created_at, body FROM events WHERE seq > ?`
	args := []any{p.After}
	if len(p.Actions) > 0 {
		marks := make([]string, len(p.Actions))
		for i, a := range p.Actions {
			if !a.Valid() {
				return nil, dvr.Errorf(dvr.EINVALID, "unknown action %q", a)
			}
			marks[i] = "?"
			args = append(args, string(a))
		}
		query += ` AND action IN (` + strings.Join(marks, ",") + `)`
	}
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, p.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		ev, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// Get returns the event with the given seq, or an ENOTFOUND error.
func Get(ctx context.Context, q store.Querier, seq int64) (*Event, error) {
	row := q.QueryRowContext(ctx, `SELECT seq, id, action, created_at, body FROM events WHERE seq = ?`, seq)
	ev, err := scan(row)
	if err == sql.ErrNoRows {
		return nil, dvr.Errorf(dvr.ENOTFOUND, "event %d not found", seq)
	}
	return ev, err
}

// LastSeq returns the seq of the newest event, or 0 when the log is empty.
func LastSeq(ctx context.Context, q store.Querier) (int64, error) {
	var seq int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read last seq: %w", err)
	}
	return seq, nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(s scanner) (*Event, error) {
	var (
		ev      Event
		action  string
		created int64
	)
	if err := s.Scan(&ev.Seq, &ev.ID, &action, &created, &ev.Body); err != nil {
		if err == sql.ErrNoRows {
			return nil, err
		}
		return nil, fmt.Errorf("scan event: %w", err)
	}
	ev.Action = Action(action)
	ev.Timestamp = store.FromMilli(created)
	return &ev, nil
}
