package event

import (
	"context"
	"fmt"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Prune deletes at most limit events created before before, oldest first,
// skipping every event that still has a pending webhook delivery so that a
// receiver that is down never loses an event to retention. Deliveries and
// attempts of deleted events go with them (the webhook tables cascade).
// It returns how many events were deleted; callers prune in batches, each in
// its own short transaction, until fewer than limit come back. limit must be
// positive (EINVALID otherwise).
func Prune(ctx context.Context, q store.Querier, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, dvr.Errorf(dvr.EINVALID, "prune limit must be positive, got %d", limit)
	}
	// The subquery picks the batch by the created_at index; the NOT EXISTS
	// probe uses the deliveries' event_seq index.
	res, err := q.ExecContext(ctx, `DELETE FROM events WHERE seq IN (
		SELECT e.seq FROM events e
		WHERE e.created_at < ?
		  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
		ORDER BY e.seq
		LIMIT ?)`, store.UnixMilli(before), limit)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return n, nil
}
