package job

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
)

// ProgressInterval is the shortest time between two job_progress events of
// one job. Reports in between are coalesced: the latest value wins and is
// sent when the interval has passed, or before the job's next job_update.
const ProgressInterval = time.Second

type progressKey struct{}

// ReportProgress records that the job running in ctx is fraction done (0 to
// 1; values outside are clamped) with a human-readable text such as "120 MB".
// ctx is the context River gave the worker (or one from Tracked.Context);
// anywhere else ReportProgress does nothing. It may be called as often as
// convenient: events are coalesced to one per ProgressInterval. It blocks
// at most for one event write.
func ReportProgress(ctx context.Context, fraction float64, text string) {
	if e, ok := ctx.Value(progressKey{}).(*entry); ok {
		e.report(fraction, text)
	}
}

func withProgress(ctx context.Context, e *entry) context.Context {
	return context.WithValue(ctx, progressKey{}, e)
}

func clampFraction(f float64) float64 {
	switch {
	case math.IsNaN(f) || f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// afterFunc schedules f after d and returns a function that cancels it;
// time.AfterFunc in production, a manual clock in tests.
type afterFunc func(d time.Duration, f func()) (stop func() bool)

func realAfter(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// coalescer turns a stream of progress reports into at most one emitted
// value per interval. The first report after a quiet interval is emitted at
// once; later ones wait for a timer, and only the latest is sent. Every emit
// runs under emitMu, so flush can put the last value strictly before the
// job's next state event.
type coalescer struct {
	interval time.Duration
	now      func() time.Time
	after    afterFunc
	emit     func(event.JobProgress)

	emitMu sync.Mutex // held while emitting; orders emits and flushes

	mu      sync.Mutex
	last    time.Time          // when the last value was emitted
	pending *event.JobProgress // latest value not yet emitted
	stop    func() bool        // cancels the armed timer, nil when none
	closed  bool
}

func newCoalescer(interval time.Duration, now func() time.Time, after afterFunc, emit func(event.JobProgress)) *coalescer {
	return &coalescer{interval: interval, now: now, after: after, emit: emit}
}

// report offers a value; see coalescer.
func (c *coalescer) report(v event.JobProgress) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := c.now()
	if c.pending == nil && (c.last.IsZero() || now.Sub(c.last) >= c.interval) {
		c.last = now
		c.mu.Unlock()
		c.emitMu.Lock()
		defer c.emitMu.Unlock()
		c.emit(v)
		return
	}
	c.pending = &v
	if c.stop == nil {
		c.stop = c.after(c.interval-now.Sub(c.last), c.fire)
	}
	c.mu.Unlock()
}

// fire emits the pending value when the timer runs out.
func (c *coalescer) fire() {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	c.mu.Lock()
	c.stop = nil
	v := c.pending
	c.pending = nil
	if c.closed || v == nil {
		c.mu.Unlock()
		return
	}
	c.last = c.now()
	c.mu.Unlock()
	c.emit(*v)
}

// flush emits the pending value now, if any, then runs then while still
// holding the emit lock, so no progress of this job can be emitted between
// the flush and then. With final set, later reports are dropped.
func (c *coalescer) flush(final bool, then func()) {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	c.mu.Lock()
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	v := c.pending
	c.pending = nil
	if final {
		c.closed = true
	}
	if v != nil {
		c.last = c.now()
	}
	c.mu.Unlock()
	if v != nil {
		c.emit(*v)
	}
	if then != nil {
		then()
	}
}
