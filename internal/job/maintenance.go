package job

import (
	"context"
	"fmt"
	"strconv"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// PruneEventsName is the periodic job that applies the event retention.
const PruneEventsName = "maintenance.prune_events"

// pruneEvents deletes events older than the retention, batch by batch, each
// batch in a transaction of its own so that other writers get the single
// write connection in between. Events a webhook delivery still waits for
// are kept.
func (s *Service) pruneEvents(ctx context.Context) error {
	if s.cfg.EventRetention <= 0 {
		return nil
	}
	before := s.now().Add(-s.cfg.EventRetention)
	var total int64
	for {
		var n int64
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = event.Prune(ctx, tx, before, s.cfg.PruneBatch)
			return err
		})
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		total += n
		if n < int64(s.cfg.PruneBatch) {
			break
		}
		ReportProgress(ctx, 0, strconv.FormatInt(total, 10)+" events deleted")
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
	}
	if total > 0 {
		s.logger.Info("pruned events", "deleted", total, "before", before)
	}
	return nil
}
