package webhook

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// MaxListLimit is the largest page ListAttempts and ListDeliveries return.
const MaxListLimit = 1000

// Attempt is one HTTP attempt of a delivery, as the attempt log shows it.
type Attempt struct {
	ID         int64        `json:"id"`
	DeliveryID int64        `json:"delivery_id"`
	EndpointID int64        `json:"endpoint_id"`
	EventID    string       `json:"event_id"`
	EventSeq   int64        `json:"seq"`
	Action     event.Action `json:"action"`
	// Status is the delivery's status now: pending, succeeded or failed.
	Status string `json:"status"`
	// Attempt is the number of this attempt within its delivery, from 1.
	Attempt int `json:"attempt"`
	// Code is the HTTP status received; 0 when no response arrived.
	Code      int   `json:"code"`
	LatencyMS int64 `json:"latency_ms"`
	// Error says why the attempt failed; empty on success.
	Error string `json:"error,omitempty"`
	// Response is the start of the response body (valid UTF-8; other bytes
	// are escaped).
	Response    string    `json:"response,omitempty"`
	AttemptedAt time.Time `json:"attempted_at"`
}

// AttemptListParams pages ListAttempts. Zero values mean: 100 attempts, from
// the newest.
type AttemptListParams struct {
	Limit  int   // 1..1000; default 100
	Before int64 // only attempts with an id below this; 0 means no bound
}

func listAttempts(ctx context.Context, q store.Querier, endpointID int64, p AttemptListParams) ([]*Attempt, error) {
	if p.Limit == 0 {
		p.Limit = 100
	}
	if p.Limit < 1 || p.Limit > MaxListLimit {
		return nil, dvr.Errorf(dvr.EINVALID, "limit must be between 1 and %d, got %d", MaxListLimit, p.Limit)
	}
	if p.Before < 0 {
		return nil, dvr.Errorf(dvr.EINVALID, "before must be an attempt id of 0 or more, got %d", p.Before)
	}
	query := `SELECT a.id, a.delivery_id, a.endpoint_id, e.id, e.seq, e.action, d.status, a.attempt,
		a.status_code, a.latency_ms, a.error, a.response, a.attempted_at
		FROM webhook_attempts a
		JOIN webhook_deliveries d ON d.id = a.delivery_id
		JOIN events e ON e.seq = d.event_seq
		WHERE a.endpoint_id = ?`
	args := []any{endpointID}
	if p.Before > 0 {
		query += ` AND a.id < ?`
		args = append(args, p.Before)
	}
	query += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, p.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []*Attempt
	for rows.Next() {
		var (
			a      Attempt
			action string
			at     int64
		)
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.EndpointID, &a.EventID, &a.EventSeq, &action, &a.Status,
			&a.Attempt, &a.Code, &a.LatencyMS, &a.Error, &a.Response, &at); err != nil {
			return nil, fmt.Errorf("list attempts: %w", err)
		}
		a.Action = event.Action(action)
		a.AttemptedAt = store.FromMilli(at)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	return out, nil
}

// insertAttempt logs one attempt, unless its delivery was deleted meanwhile
// (its endpoint was removed or its event pruned).
func insertAttempt(ctx context.Context, tx *store.Tx, r *result) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts
		(delivery_id, endpoint_id, attempt, attempted_at, status_code, latency_ms, error, response)
		SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?)`,
		r.job.deliveryID, r.job.endpointID, r.job.attempt, store.UnixMilli(r.attemptedAt), r.code,
		r.latency.Milliseconds(), r.errText, r.response, r.job.deliveryID)
	if err != nil {
		return fmt.Errorf("insert attempt of delivery %d: %w", r.job.deliveryID, err)
	}
	return nil
}

func pruneAttempts(ctx context.Context, q store.Querier, before time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE attempted_at < ?`, store.UnixMilli(before))
	if err != nil {
		return 0, fmt.Errorf("prune attempts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune attempts: %w", err)
	}
	return n, nil
}

// snippet returns the first limit bytes of b as valid UTF-8: a rune cut by
// the limit is dropped, and a body that is not UTF-8 is escaped like a Go
// string literal (without the quotes).
func snippet(b []byte, limit int) string {
	if len(b) > limit {
		b = b[:limit]
		// Drop a rune the limit cut in half, if that is all that is wrong.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	q := strconv.Quote(string(b))
	return q[1 : len(q)-1]
}
