package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// maxBatch is the most attempt results written in one transaction.
const maxBatch = 256

// batchLinger is how long the writer waits for more results once it has
// some, trading a little delay in the attempt log for fewer transactions.
const batchLinger = time.Millisecond

// writeLoop applies attempt results in batches, one transaction each: the
// attempt rows, the deliveries' new state, and the endpoints' failing_since
// and disabling. It returns once results is closed and drained.
func (s *Service) writeLoop(ctx context.Context) {
	defer close(s.writerDone)
	batch := make([]*result, 0, maxBatch)
	linger := time.NewTimer(batchLinger)
	linger.Stop()
	for {
		r, ok := <-s.results
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		linger.Reset(batchLinger)
	collect:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.results:
				if !ok {
					break collect
				}
				batch = append(batch, r)
			case <-linger.C:
				break collect
			}
		}
		linger.Stop()
		s.flush(ctx, batch)
	}
}

// endpointEffect is what a batch does to one endpoint.
type endpointEffect struct {
	failingSince *time.Time // after the batch
	changed      bool       // failingSince differs from the cache
	goneAt       *time.Time // a 410 arrived
}

// outcome names the metrics label of a result.
type outcome string

const (
	outcomeSuccess  outcome = "success"
	outcomeRetry    outcome = "retry"
	outcomeFailed   outcome = "failed"
	outcomeDisabled outcome = "disabled"
)

// flush writes one batch. Deliveries stay owned (unclaimable by the retry
// loop) until their new state is committed.
func (s *Service) flush(ctx context.Context, batch []*result) {
	now := s.cfg.Now()
	outcomes := make([]outcome, len(batch))
	s.claimMu.Lock()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		snap := s.snap()
		effects := map[int64]*endpointEffect{}
		for i, r := range batch {
			if err := insertAttempt(ctx, tx, r); err != nil {
				return err
			}
			var (
				status = StatusPending
				next   *time.Time
			)
			switch {
			case r.ok():
				status, outcomes[i] = StatusSucceeded, outcomeSuccess
			case r.gone():
				status, outcomes[i] = StatusFailed, outcomeDisabled
			default:
				if d, ok := retryDelay(s.cfg.Schedule, s.cfg.Jitter, r.job.attempt, r.retryAfter); ok {
					t := r.attemptedAt.Add(d)
					next, outcomes[i] = &t, outcomeRetry
				} else {
					status, outcomes[i] = StatusFailed, outcomeFailed
				}
			}
			if err := updateDelivery(ctx, tx, r.job.deliveryID, status, r.job.attempt, next, r.code, r.errText, now); err != nil {
				return err
			}
			ep := snap.byID[r.job.endpointID]
			if ep == nil {
				continue // deleted meanwhile
			}
			eff := effects[ep.row.ID]
			if eff == nil {
				eff = &endpointEffect{failingSince: ep.row.FailingSince}
				effects[ep.row.ID] = eff
			}
			switch {
			case r.ok():
				eff.changed = eff.changed || eff.failingSince != nil
				eff.failingSince = nil
			case r.gone():
				at := r.attemptedAt
				eff.goneAt = &at
			case eff.failingSince == nil:
				at := r.attemptedAt
				eff.failingSince, eff.changed = &at, true
			}
		}
		return s.applyEffects(ctx, tx, snap, effects, now)
	})
	if err == nil {
		// Release only now: until this commit the rows still show the old
		// due time, and the retry loop must not claim them.
		for _, r := range batch {
			s.track.release(r.job.deliveryID)
		}
	}
	s.claimMu.Unlock()
	if err != nil {
		// The rows are unchanged and still due: release them so the retry
		// loop sends them again.
		s.logger.Error("record webhook attempts", "attempts", len(batch), "err", err)
		for _, r := range batch {
			s.track.release(r.job.deliveryID)
		}
		return
	}
	for _, o := range outcomes {
		s.metrics.attempts.WithLabelValues(string(o)).Inc()
	}
	if s.afterFlush != nil {
		s.afterFlush()
	}
}

// applyEffects updates failing_since and disables endpoints that answered
// 410 or have failed for Config.DisableAfter, publishing an alert for each.
func (s *Service) applyEffects(ctx context.Context, tx *store.Tx, snap *snapshot, effects map[int64]*endpointEffect, now time.Time) error {
	var alerts []event.Alert
	changed := false
	for id, eff := range effects {
		ep := snap.byID[id]
		if eff.changed {
			if err := setFailingSince(ctx, tx, id, eff.failingSince); err != nil {
				return err
			}
			changed = true
		}
		var reason string
		switch {
		case eff.goneAt != nil:
			reason = fmt.Sprintf("the endpoint answered 410 Gone at %s", eff.goneAt.UTC().Format(time.RFC3339))
		case eff.failingSince != nil && s.cfg.DisableAfter > 0 && now.Sub(*eff.failingSince) >= s.cfg.DisableAfter:
			reason = fmt.Sprintf("every delivery has failed since %s", eff.failingSince.UTC().Format(time.RFC3339))
		default:
			continue
		}
		disabled, err := disableEndpoint(ctx, tx, id, reason, now)
		if err != nil {
			return err
		}
		if disabled {
			changed = true
			alerts = append(alerts, disabledAlert(ep.row, reason))
		}
	}
	if !changed {
		return nil
	}
	return s.reloadInTx(ctx, tx, alerts...)
}

// disabledAlert is the alert published when an endpoint is disabled.
func disabledAlert(ep *endpointRow, reason string) event.Alert {
	return event.Alert{
		Level: event.LevelError,
		Text: fmt.Sprintf("Webhook %d (%s) was disabled: %s. Fix the receiver, then re-enable the webhook; "+
			"pending deliveries resume and failed ones can be replayed.", ep.ID, ep.URL, reason),
	}
}

// reloadInTx reloads the endpoint cache after a change made in tx,
// publishes alerts in tx as seen by the new cache (so a just-disabled
// endpoint gets none), and installs the cache once tx commits.
func (s *Service) reloadInTx(ctx context.Context, tx *store.Tx, alerts ...event.Alert) error {
	snap, err := loadSnapshot(ctx, tx)
	if err != nil {
		return err
	}
	pctx := withSnapshot(ctx, snap)
	for _, a := range alerts {
		if _, err := s.bus.Publish(pctx, tx, a); err != nil {
			return fmt.Errorf("publish alert: %w", err)
		}
	}
	tx.AfterCommit(func() { s.setSnap(snap) })
	return nil
}
