package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Replay delivers the event of a delivery to its endpoint again, whatever
// became of the original: it adds a delivery (replay_of pointing at the
// original) whose attempts start over, sent at once under the same
// webhook-id. Errors: ENOTFOUND for an unknown delivery, ECONFLICT when the
// endpoint is disabled.
func (s *Service) Replay(ctx context.Context, deliveryID int64) (*Delivery, error) {
	var newID int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := replayTargetOf(ctx, tx, deliveryID)
		if err != nil {
			return err
		}
		if err := s.requireEnabled(ctx, tx, t.endpointID); err != nil {
			return err
		}
		jobs, err := s.insertReplays(ctx, tx, []replayTarget{*t})
		if err != nil {
			return err
		}
		newID = jobs[0].deliveryID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return getDelivery(ctx, s.db.Read, newID)
}

// ReplayFailed replays every failed delivery (schedule exhausted or 410) of
// the endpoint created at or after since, and returns how many it replayed.
// Errors: ENOTFOUND for an unknown endpoint, ECONFLICT when it is disabled.
func (s *Service) ReplayFailed(ctx context.Context, endpointID int64, since time.Time) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.requireEnabled(ctx, tx, endpointID); err != nil {
			return err
		}
		targets, err := failedSince(ctx, tx, endpointID, since)
		if err != nil {
			return err
		}
		if len(targets) == 0 {
			return nil
		}
		jobs, err := s.insertReplays(ctx, tx, targets)
		n = len(jobs)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (s *Service) requireEnabled(ctx context.Context, tx *store.Tx, endpointID int64) error {
	r, err := getEndpoint(ctx, tx, endpointID)
	if err != nil {
		return err
	}
	if !r.Enabled {
		return dvr.Errorf(dvr.ECONFLICT, "webhook %d is disabled; enable it first", endpointID)
	}
	return nil
}

// insertReplays adds a due delivery per target and hands them to the
// workers once tx commits.
func (s *Service) insertReplays(ctx context.Context, tx *store.Tx, targets []replayTarget) ([]job, error) {
	now := s.cfg.Now()
	jobs := make([]job, 0, len(targets))
	for _, t := range targets {
		orig := t.deliveryID
		id, err := insertDelivery(ctx, tx, t.endpointID, t.seq, now, now, &orig)
		if err != nil {
			return nil, fmt.Errorf("replay delivery %d: %w", orig, err)
		}
		s.track.reserve(id)
		jobs = append(jobs, job{deliveryID: id, endpointID: t.endpointID, eventID: t.eventID, body: t.body, attempt: 1})
	}
	tx.AfterCommit(func() {
		s.track.activate(jobs)
		if !s.disp.push(jobs) {
			s.track.releaseJobs(jobs)
		}
	})
	return jobs, nil
}

// SendTest publishes a notify event (category "test") that is delivered to
// this endpoint only, whatever its filter, and returns the event. Other
// consumers of the event log (the websocket) see it too. Errors: ENOTFOUND,
// ECONFLICT when the endpoint is disabled.
func (s *Service) SendTest(ctx context.Context, endpointID int64) (*event.Event, error) {
	r, err := getEndpoint(ctx, s.db.Read, endpointID)
	if err != nil {
		return nil, err
	}
	if !r.Enabled {
		return nil, dvr.Errorf(dvr.ECONFLICT, "webhook %d is disabled; enable it first", endpointID)
	}
	return s.bus.PublishNow(WithOnlyEndpoint(ctx, endpointID), event.Notify{
		Title:    "Test event",
		Body:     fmt.Sprintf("This is a test delivery to webhook %d (%s).", r.ID, r.URL),
		Category: "test",
	})
}
