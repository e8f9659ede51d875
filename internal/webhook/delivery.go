package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Delivery statuses.
const (
	StatusPending   = "pending"   // waiting for its next attempt
	StatusSucceeded = "succeeded" // an attempt got a 2xx
	StatusFailed    = "failed"    // the schedule is exhausted or the endpoint answered 410
)

// Delivery is one event to deliver to one endpoint.
type Delivery struct {
	ID         int64        `json:"id"`
	EndpointID int64        `json:"endpoint_id"`
	EventID    string       `json:"event_id"`
	EventSeq   int64        `json:"seq"`
	Action     event.Action `json:"action"`
	Status     string       `json:"status"`
	// Attempts is how many attempts were made so far.
	Attempts int `json:"attempts"`
	// NextAttemptAt is when the next attempt is due; absent once final.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastCode      int        `json:"last_code"`
	LastError     string     `json:"last_error,omitempty"`
	// ReplayOf is the delivery this one replays, if any.
	ReplayOf  *int64    `json:"replay_of,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const deliveryColumns = `d.id, d.endpoint_id, e.id, d.event_seq, e.action, d.status, d.attempts,
	d.next_attempt_at, d.last_code, d.last_error, d.replay_of, d.created_at, d.updated_at`

func scanDelivery(s interface{ Scan(...any) error }) (*Delivery, error) {
	var (
		d                Delivery
		action           string
		next, replayOf   sql.NullInt64
		created, updated int64
	)
	if err := s.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventSeq, &action, &d.Status, &d.Attempts,
		&next, &d.LastCode, &d.LastError, &replayOf, &created, &updated); err != nil {
		return nil, err
	}
	d.Action = event.Action(action)
	if next.Valid {
		t := store.FromMilli(next.Int64)
		d.NextAttemptAt = &t
	}
	if replayOf.Valid {
		d.ReplayOf = &replayOf.Int64
	}
	d.CreatedAt, d.UpdatedAt = store.FromMilli(created), store.FromMilli(updated)
	return &d, nil
}

func getDelivery(ctx context.Context, q store.Querier, id int64) (*Delivery, error) {
	d, err := scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dvr.Errorf(dvr.ENOTFOUND, "delivery %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery %d: %w", id, err)
	}
	return d, nil
}

// DeliveryListParams filters ListDeliveries. Zero values mean: every status,
// 100 deliveries, from the newest.
type DeliveryListParams struct {
	Status string // only deliveries in this status; empty means all
	Limit  int    // 1..1000; default 100
	Before int64  // only deliveries with an id below this; 0 means no bound
}

func listDeliveries(ctx context.Context, q store.Querier, endpointID int64, p DeliveryListParams) ([]*Delivery, error) {
	if p.Limit == 0 {
		p.Limit = 100
	}
	if p.Limit < 1 || p.Limit > MaxListLimit {
		return nil, dvr.Errorf(dvr.EINVALID, "limit must be between 1 and %d, got %d", MaxListLimit, p.Limit)
	}
	switch p.Status {
	case "", StatusPending, StatusSucceeded, StatusFailed:
	default:
		return nil, dvr.Errorf(dvr.EINVALID, "status must be one of pending, succeeded, failed; got %q", p.Status)
	}
	query := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.endpoint_id = ?`
	args := []any{endpointID}
	if p.Status != "" {
		query += ` AND d.status = ?`
		args = append(args, p.Status)
	}
	if p.Before > 0 {
		query += ` AND d.id < ?`
		args = append(args, p.Before)
	}
	query += ` ORDER BY d.id DESC LIMIT ?`
	args = append(args, p.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// insertDelivery adds a pending delivery due at due and returns its id.
func insertDelivery(ctx context.Context, tx *store.Tx, endpointID, seq int64, due, now time.Time, replayOf *int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
		(endpoint_id, event_seq, status, attempts, next_attempt_at, replay_of, created_at, updated_at)
		VALUES (?, ?, 'pending', 0, ?, ?, ?, ?)`,
		endpointID, seq, store.UnixMilli(due), replayOf, store.UnixMilli(now), store.UnixMilli(now))
	if err != nil {
		return 0, fmt.Errorf("insert delivery: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert delivery: %w", err)
	}
	return id, nil
}

// updateDelivery records the outcome of an attempt; next is nil once the
// delivery is final. A delivery deleted meanwhile (its endpoint or event
// went away) is left alone.
func updateDelivery(ctx context.Context, tx *store.Tx, id int64, status string, attempts int, next *time.Time, code int, errText string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
		last_code = ?, last_error = ?, updated_at = ? WHERE id = ?`,
		status, attempts, nullMilli(next), code, errText, store.UnixMilli(now), id)
	if err != nil {
		return fmt.Errorf("update delivery %d: %w", id, err)
	}
	return nil
}

// dueDeliveries returns up to limit pending deliveries of enabled endpoints
// that are due at now, earliest first, with what it takes to send them.
func dueDeliveries(ctx context.Context, q store.Querier, now time.Time, limit int) ([]job, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.id, d.endpoint_id, d.attempts, e.id, e.body
		FROM webhook_deliveries d
		JOIN webhook_endpoints w ON w.id = d.endpoint_id
		JOIN events e ON e.seq = d.event_seq
		WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1
		ORDER BY d.next_attempt_at LIMIT ?`, store.UnixMilli(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	defer rows.Close()
	var out []job
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.deliveryID, &j.endpointID, &j.attempt, &j.eventID, &j.body); err != nil {
			return nil, fmt.Errorf("claim due deliveries: %w", err)
		}
		j.attempt++ // the number of the attempt about to be made
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	return out, nil
}

// replayTarget is a delivery to replay: its endpoint and event.
type replayTarget struct {
	deliveryID, endpointID, seq int64
	eventID                     string
	body                        []byte
}

func failedSince(ctx context.Context, q store.Querier, endpointID int64, since time.Time) ([]replayTarget, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.id, d.endpoint_id, d.event_seq, e.id, e.body
		FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.endpoint_id = ? AND d.status = 'failed' AND d.created_at >= ?
		ORDER BY d.id`, endpointID, store.UnixMilli(since))
	if err != nil {
		return nil, fmt.Errorf("list failed deliveries: %w", err)
	}
	defer rows.Close()
	var out []replayTarget
	for rows.Next() {
		var t replayTarget
		if err := rows.Scan(&t.deliveryID, &t.endpointID, &t.seq, &t.eventID, &t.body); err != nil {
			return nil, fmt.Errorf("list failed deliveries: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list failed deliveries: %w", err)
	}
	return out, nil
}

func replayTargetOf(ctx context.Context, q store.Querier, deliveryID int64) (*replayTarget, error) {
	var t replayTarget
	err := q.QueryRowContext(ctx, `SELECT d.id, d.endpoint_id, d.event_seq, e.id, e.body
		FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = ?`, deliveryID).
		Scan(&t.deliveryID, &t.endpointID, &t.seq, &t.eventID, &t.body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dvr.Errorf(dvr.ENOTFOUND, "delivery %d not found", deliveryID)
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery %d: %w", deliveryID, err)
	}
	return &t, nil
}
