package job

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lsdvr/lsdvr/internal/event"
)

// middleware follows every River job through an attempt: it announces the
// job if nobody has yet, publishes running, gives the worker a context that
// carries the progress reporter and the job's cancel function, and publishes
// the outcome once the worker returns. Workers need do nothing for it.
type middleware struct {
	river.MiddlewareDefaults
	svc *Service
}

var _ rivertype.WorkerMiddleware = (*middleware)(nil)

// Work implements rivertype.WorkerMiddleware.
func (m *middleware) Work(ctx context.Context, row *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	s := m.svc
	e := s.beginRiver(ctx, row)

	jctx, cancel := context.WithCancelCause(withProgress(ctx, e))
	defer cancel(nil)
	e.setCancel(cancel)
	defer e.setCancel(nil)

	defer func() {
		// A panic is River's to record; report the attempt as failed first
		// so the list does not keep a job that is no longer running.
		if p := recover(); p != nil {
			s.finish(ctx, e, s.failedState(row), fmt.Errorf("panic: %v", p), row.Attempt)
			panic(p)
		}
	}()
	err = doInner(jctx)

	cause := context.Cause(jctx)
	cancelled := err != nil && (errors.Is(cause, errCancelled) || errors.Is(cause, river.ErrJobCancelledRemotely))
	if cancelled && errors.Is(cause, errCancelled) {
		// River learns of a cancel through its own channel only later;
		// say so now so the job is not retried.
		err = river.JobCancel(err)
	}
	state, stateErr := s.outcome(row, err, cancelled)
	s.finish(ctx, e, state, stateErr, row.Attempt)
	return err
}

// beginRiver finds or creates the job's list entry as an attempt starts,
// publishing job_save for a job nobody announced (one River inserted itself,
// like a periodic job), then publishes job_update(running).
func (s *Service) beginRiver(ctx context.Context, row *rivertype.JobRow) *entry {
	j := jobOf(row, s.now())
	fresh := s.newEntry(riverName(j.Kind, row.ID), j, row.ID)
	fresh.committed = true
	e := s.reg.putIfAbsent(fresh)
	if e != fresh {
		e.mu.Lock()
		// An uncommitted entry with this id and the same job is ours and
		// has committed (River sees only committed jobs); one that differs
		// is left over from a rolled-back insert whose id was reused.
		same := e.job.Kind == j.Kind && e.job.CreatedAt.Equal(j.CreatedAt)
		if same {
			e.committed = true
		}
		e.mu.Unlock()
		if !same {
			s.reg.remove(e)
			e = s.reg.putIfAbsent(fresh)
		}
	}
	name, running := e.setState(StateRunning, nil, row.Attempt)
	if e != fresh {
		s.publish(ctx, event.JobUpdate{JobName: name, Job: running})
		return e
	}
	saved := j
	saved.State = string(StatePending)
	saved.Attempt = 0
	saved.UpdatedAt = saved.CreatedAt
	s.publish(ctx, event.JobSave{JobName: name, Job: saved}, event.JobUpdate{JobName: name, Job: running})
	return e
}

// outcome predicts the state River will give the job after an attempt that
// returned err, and the error to report with it.
func (s *Service) outcome(row *rivertype.JobRow, err error, cancelled bool) (State, error) {
	var (
		cancelErr *rivertype.JobCancelError
		snoozeErr *rivertype.JobSnoozeError
	)
	switch {
	case err == nil:
		return StateCompleted, nil
	case cancelled || errors.As(err, &cancelErr):
		return StateCancelled, err
	case errors.As(err, &snoozeErr):
		return StatePending, nil
	case s.stopping.Load() && errors.Is(err, context.Canceled):
		// River puts a job interrupted by shutdown back in the queue.
		return StatePending, fmt.Errorf("interrupted by shutdown: %w", err)
	default:
		return s.failedState(row), err
	}
}

// failedState is the state after a failed attempt: retryable while
// attempts remain, failed after the last one.
func (s *Service) failedState(row *rivertype.JobRow) State {
	if row.Attempt >= row.MaxAttempts {
		return StateFailed
	}
	return StateRetryable
}
