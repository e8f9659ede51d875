package job

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
)

// manualClock is a clock whose time and timers move only when told.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &manualTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// Advance moves the clock and fires the timers that came due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*manualTimer
	for _, tm := range c.timers {
		if !tm.stopped && !tm.at.After(c.now) {
			tm.stopped = true
			due = append(due, tm)
		}
	}
	c.mu.Unlock()
	for _, tm := range due {
		tm.f()
	}
}

func (c *manualClock) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, tm := range c.timers {
		if !tm.stopped {
			n++
		}
	}
	return n
}

func TestCoalescerEmitsAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)}
	var (
		mu      sync.Mutex
		emitted []string
	)
	c := newCoalescer(time.Second, clock.Now, clock.After, func(v event.JobProgress) {
		mu.Lock()
		defer mu.Unlock()
		emitted = append(emitted, v.Text)
	})
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), emitted...)
	}
	report := func(text string) { c.report(event.JobProgress{JobName: "j", Text: text}) }

	report("a") // first value: at once
	require.Equal(t, []string{"a"}, got())

	clock.Advance(100 * time.Millisecond)
	report("b")
	clock.Advance(100 * time.Millisecond)
	report("c")
	require.Equal(t, []string{"a"}, got(), "within the interval nothing more is sent")
	require.Equal(t, 1, clock.armed(), "one timer for the pending value")

	clock.Advance(799 * time.Millisecond)
	require.Equal(t, []string{"a"}, got())
	clock.Advance(time.Millisecond) // 1 s after "a"
	require.Equal(t, []string{"a", "c"}, got(), "the latest value wins")

	clock.Advance(500 * time.Millisecond)
	report("d")
	require.Equal(t, []string{"a", "c"}, got())

	var order []string
	c.flush(true, func() { order = append(got(), "final") })
	require.Equal(t, []string{"a", "c", "d", "final"}, order, "the last value is flushed before the final update")
	require.Zero(t, clock.armed(), "the flush stops the timer")

	report("e")
	clock.Advance(time.Hour)
	require.Equal(t, []string{"a", "c", "d"}, got(), "nothing after the final flush")
}

func TestCoalescerAfterQuietIntervalEmitsAtOnce(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Unix(0, 0)}
	var n int
	c := newCoalescer(time.Second, clock.Now, clock.After, func(event.JobProgress) { n++ })
	for i := range 5 {
		c.report(event.JobProgress{Progress: float64(i)})
		clock.Advance(time.Second)
	}
	require.Equal(t, 5, n, "reports a full interval apart are all sent")

	c.flush(false, nil)
	require.Equal(t, 5, n, "nothing pending, nothing flushed")
	clock.Advance(time.Second)
	c.report(event.JobProgress{})
	require.Equal(t, 6, n, "a non-final flush keeps the job reporting")
}

func TestRiverJobProgressIsCoalesced(t *testing.T) {
	t.Parallel()
	tb := setup(t, setupOpts{})
	ctx := context.Background()

	const reports = 20000
	row, err := tb.svc.Insert(ctx, progressArgs{Count: reports}, nil)
	require.NoError(t, err)
	name := riverName("test.progress", row.ID)
	tb.rec.waitCleared(t, name)

	evs := logJobEvents(t, tb, name)
	var (
		progress       []jobEvent
		running, final jobEvent
	)
	for _, e := range evs {
		switch {
		case e.Action == event.ActionJobProgress:
			progress = append(progress, e)
		case e.Action == event.ActionJobUpdate && e.Job.State == string(StateRunning):
			running = e
		case e.Action == event.ActionJobUpdate && e.Job.State == string(StateCompleted):
			final = e
		}
	}
	// The worker ran for `elapsed`; one event may start each interval, plus
	// the flush of the last value.
	elapsed := final.Timestamp.Sub(running.Timestamp)
	limit := int(elapsed/ProgressInterval) + 2
	t.Logf("%d reports in %s became %d job_progress events (limit %d)", reports+1, elapsed, len(progress), limit)
	require.NotEmpty(t, progress)
	require.LessOrEqual(t, len(progress), limit)

	last := progress[len(progress)-1]
	require.Equal(t, 1.0, last.Progress)
	require.Equal(t, "done", last.Text)
	require.Less(t, last.Seq, final.Seq, "the last progress comes before the final update")
	for i := 1; i < len(progress)-1; i++ {
		require.GreaterOrEqual(t, progress[i].Timestamp.Sub(progress[i-1].Timestamp), ProgressInterval-time.Millisecond,
			"events other than the final flush are an interval apart")
	}
}
