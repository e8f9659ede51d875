package job

import (
	"context"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/lsdvr/lsdvr/internal/event"
)

// Tracked is a job of the live list that River does not run, such as a
// capture process. Its owner reports progress and state changes and clears
// it when done; each call publishes the matching job_* event. It is safe for
// concurrent use. Event writes use a context of their own (bounded to 10 s),
// so they still happen while the owner's context is being cancelled;
// failures are logged.
type Tracked struct {
	svc *Service
	e   *entry
}

// Track adds a job named name (e.g. "capture:demo") of the given kind to the
// live list as pending, publishing job_save, and returns it with an id
// "t-...". cancel (may be nil: not cancellable) is what Service.Cancel calls
// for it; the owner still reports the outcome with Update and Clear.
func (s *Service) Track(ctx context.Context, name, kind string, metadata map[string]any, cancel context.CancelFunc) *Tracked {
	now := s.now().UTC()
	id := trackedPrefix + strings.ToLower(ulid.Make().String())
	j := event.Job{
		ID:        id,
		Kind:      kind,
		State:     string(StatePending),
		Metadata:  metadata,
		CreatedAt: now,
		UpdatedAt: now,
	}
	e := s.newEntry(name, j, 0)
	e.committed = true
	if cancel != nil {
		e.cancel = func(error) { cancel() }
	}
	s.reg.put(e)
	name, j = e.snapshot()
	s.publish(ctx, event.JobSave{JobName: name, Job: j})
	return &Tracked{svc: s, e: e}
}

// ID returns the job's id ("t-...").
func (t *Tracked) ID() string { return t.e.id }

// Name returns the job's name, as given to Track.
func (t *Tracked) Name() string {
	name, _ := t.e.snapshot()
	return name
}

// Progress reports that the job is fraction done (0 to 1) with a text such
// as "120 MB"; job_progress events are coalesced to one per
// ProgressInterval. Ignored after Clear.
func (t *Tracked) Progress(fraction float64, text string) { t.e.report(fraction, text) }

// Context returns ctx carrying the job's progress reporter, so code that
// only sees a context can call ReportProgress.
func (t *Tracked) Context(ctx context.Context) context.Context { return withProgress(ctx, t.e) }

// Update records a new state, with err (may be nil) as the job's error, and
// publishes job_update after flushing any pending progress. A final state
// leaves the job in the list until Clear. An invalid state is logged and
// ignored.
func (t *Tracked) Update(state State, err error) {
	if !state.Valid() {
		t.svc.logger.Error("tracked job update with an invalid state", "job", t.e.name, "state", string(state))
		return
	}
	t.e.prog.flush(false, func() {
		name, j := t.e.setState(state, err, 0)
		t.svc.publish(context.Background(), event.JobUpdate{JobName: name, Job: j})
	})
}

// Clear removes the job from the list, publishing job_clear after any
// pending progress. Later calls do nothing.
func (t *Tracked) Clear() {
	t.e.prog.flush(true, func() {
		if t.svc.reg.get(t.e.id) != t.e {
			return
		}
		t.svc.reg.remove(t.e)
		name, j := t.e.snapshot()
		t.svc.publish(context.Background(), event.JobClear{JobName: name, Job: j})
	})
}
