package webhook

import (
	"sync"
	"time"
)

// job is one attempt to make.
type job struct {
	deliveryID int64
	endpointID int64
	eventID    string
	body       []byte
	attempt    int // number of this attempt, from 1
}

// tracker is the set of deliveries this process owns: reserved inside the
// publishing transaction, then queued or being sent, until the result of
// the attempt is committed. The retry loop never claims a delivery in it,
// so no delivery is sent twice at once.
type tracker struct {
	mu sync.Mutex
	m  map[int64]trackEntry
}

type trackEntry struct {
	since time.Time // wall clock, for dropping reservations of rolled-back transactions
	live  bool      // the row is committed (not merely reserved)
}

func newTracker() *tracker { return &tracker{m: make(map[int64]trackEntry)} }

// reserve marks a delivery inserted by a transaction not yet committed.
func (t *tracker) reserve(id int64) {
	t.mu.Lock()
	t.m[id] = trackEntry{since: time.Now()}
	t.mu.Unlock()
}

// activate marks committed deliveries as owned.
func (t *tracker) activate(jobs []job) {
	now := time.Now()
	t.mu.Lock()
	for _, j := range jobs {
		t.m[j.deliveryID] = trackEntry{since: now, live: true}
	}
	t.mu.Unlock()
}

// claim takes a delivery found due by the retry loop, reporting false when
// this process already owns it.
func (t *tracker) claim(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[id]; ok {
		return false
	}
	t.m[id] = trackEntry{since: time.Now(), live: true}
	return true
}

func (t *tracker) release(id int64) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

func (t *tracker) releaseJobs(jobs []job) {
	t.mu.Lock()
	for _, j := range jobs {
		delete(t.m, j.deliveryID)
	}
	t.mu.Unlock()
}

// sweep forgets reservations older than before that were never committed:
// their transaction rolled back (a reused id is reserved afresh).
func (t *tracker) sweep(before time.Time) {
	t.mu.Lock()
	for id, e := range t.m {
		if !e.live && e.since.Before(before) {
			delete(t.m, id)
		}
	}
	t.mu.Unlock()
}

func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// dispatcher hands jobs to workers fairly: each endpoint has its own FIFO
// queue and at most perEndpoint jobs in flight, and endpoints with work take
// turns, so a slow endpoint holds at most perEndpoint workers and never
// delays the others.
type dispatcher struct {
	perEndpoint int

	mu     sync.Mutex
	cond   *sync.Cond
	queues map[int64]*endpointQueue
	ready  []int64 // endpoints with queued jobs and a free slot, in turn order
	queued int
	closed bool
}

type endpointQueue struct {
	jobs    []job
	active  int
	inReady bool
}

func newDispatcher(perEndpoint int) *dispatcher {
	d := &dispatcher{perEndpoint: perEndpoint, queues: make(map[int64]*endpointQueue)}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// push queues jobs without blocking, reporting false (and queuing nothing)
// once the dispatcher is closed.
func (d *dispatcher) push(jobs []job) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	for _, j := range jobs {
		q := d.queues[j.endpointID]
		if q == nil {
			q = &endpointQueue{}
			d.queues[j.endpointID] = q
		}
		q.jobs = append(q.jobs, j)
		d.queued++
		d.markReady(j.endpointID, q)
	}
	d.cond.Broadcast()
	return true
}

func (d *dispatcher) markReady(id int64, q *endpointQueue) {
	if !q.inReady && len(q.jobs) > 0 && q.active < d.perEndpoint {
		q.inReady = true
		d.ready = append(d.ready, id)
	}
}

// next blocks until a job may start, and reports false once the dispatcher
// is closed. The caller must call done(endpointID) when the job is over.
func (d *dispatcher) next() (job, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.ready) == 0 && !d.closed {
		d.cond.Wait()
	}
	if d.closed {
		return job{}, false
	}
	id := d.ready[0]
	d.ready = d.ready[1:]
	q := d.queues[id]
	q.inReady = false
	j := q.jobs[0]
	q.jobs[0] = job{} // let the body be collected
	q.jobs = q.jobs[1:]
	q.active++
	d.queued--
	// Back of the line: other endpoints go first.
	d.markReady(id, q)
	return j, true
}

// done frees the endpoint's slot taken by next.
func (d *dispatcher) done(endpointID int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[endpointID]
	q.active--
	if q.active == 0 && len(q.jobs) == 0 {
		delete(d.queues, endpointID)
		return
	}
	if !d.closed {
		d.markReady(endpointID, q)
		d.cond.Signal()
	}
}

// close stops handing out jobs and returns those still queued, which stay
// pending in the database for the next start.
func (d *dispatcher) close() []job {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	var left []job
	for _, q := range d.queues {
		left = append(left, q.jobs...)
		q.jobs = nil
	}
	d.queued = 0
	d.ready = nil
	d.cond.Broadcast()
	return left
}

// len returns how many jobs wait in the queues.
func (d *dispatcher) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queued
}
