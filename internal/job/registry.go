package job

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
)

// entry is one job of the live list, River job or tracked process.
type entry struct {
	svc     *Service
	id      string // the job's id, fixed at creation
	riverID int64  // 0 for tracked jobs
	prog    *coalescer

	mu        sync.Mutex
	name      string
	job       event.Job
	text      string                  // latest progress text
	committed bool                    // its insert has committed (always true for tracked jobs)
	addedAt   time.Time               // when the entry was created, for sweeping rolled-back inserts
	cancel    context.CancelCauseFunc // cancels the running work; nil when not cancellable
}

func (s *Service) newEntry(name string, j event.Job, riverID int64) *entry {
	e := &entry{svc: s, id: j.ID, riverID: riverID, name: name, job: j, addedAt: s.now()}
	e.prog = newCoalescer(ProgressInterval, s.now, s.after, func(v event.JobProgress) {
		s.publish(context.Background(), v)
	})
	return e
}

// live returns a copy of the entry as the list shows it.
func (e *entry) live() Live {
	e.mu.Lock()
	defer e.mu.Unlock()
	j := e.job
	j.Metadata = maps.Clone(e.job.Metadata)
	return Live{Name: e.name, Job: j, ProgressText: e.text}
}

// snapshot returns the job_name and a copy of the job for an event.
func (e *entry) snapshot() (string, event.Job) {
	l := e.live()
	return l.Name, l.Job
}

// setState records a state change; it returns the job_name and job to
// publish.
func (e *entry) setState(state State, err error, attempt int) (string, event.Job) {
	e.mu.Lock()
	e.job.State = string(state)
	e.job.Error = errText(err)
	if attempt > 0 {
		e.job.Attempt = attempt
	}
	e.job.UpdatedAt = e.svc.now().UTC()
	e.mu.Unlock()
	return e.snapshot()
}

func (e *entry) report(fraction float64, text string) {
	fraction = clampFraction(fraction)
	e.mu.Lock()
	e.job.Progress = fraction
	e.text = text
	e.job.UpdatedAt = e.svc.now().UTC()
	name := e.name
	e.mu.Unlock()
	e.prog.report(event.JobProgress{JobName: name, Progress: fraction, Text: text})
}

func (e *entry) setCancel(cancel context.CancelCauseFunc) {
	e.mu.Lock()
	e.cancel = cancel
	e.mu.Unlock()
}

func (e *entry) cancelFunc() context.CancelCauseFunc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cancel
}

// registry is the live list: jobs that are pending, running or waiting for
// a retry. It is safe for concurrent use.
type registry struct {
	mu   sync.Mutex
	jobs map[string]*entry
}

func newRegistry() *registry { return &registry{jobs: make(map[string]*entry)} }

func (r *registry) get(id string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jobs[id]
}

func (r *registry) put(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs[e.id] = e
}

// putIfAbsent adds e unless an entry with its id exists, and returns the
// entry that is in the list.
func (r *registry) putIfAbsent(e *entry) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.jobs[e.id]; ok {
		return old
	}
	r.jobs[e.id] = e
	return e
}

// remove drops e, unless another entry took its id meanwhile.
func (r *registry) remove(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jobs[e.id] == e {
		delete(r.jobs, e.id)
	}
}

// sweep drops uncommitted entries added before cutoff: their inserting
// transaction rolled back, since a committed one is promoted at once.
func (r *registry) sweep(cutoff time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.jobs {
		e.mu.Lock()
		stale := !e.committed && e.addedAt.Before(cutoff)
		e.mu.Unlock()
		if stale {
			delete(r.jobs, id)
		}
	}
}

// list returns the committed entries, oldest first.
func (r *registry) list() []Live {
	r.mu.Lock()
	entries := slices.Collect(maps.Values(r.jobs))
	r.mu.Unlock()
	out := make([]Live, 0, len(entries))
	for _, e := range entries {
		e.mu.Lock()
		ok := e.committed
		e.mu.Unlock()
		if ok {
			out = append(out, e.live())
		}
	}
	slices.SortFunc(out, func(a, b Live) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
