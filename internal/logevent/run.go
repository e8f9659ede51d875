package logevent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
)

// SuppressedMessage is the message of the log event that reports records
// left out by the rate limit or a full queue; its attrs hold the counts
// (rate_limited, queue_full, suppressed).
const SuppressedMessage = "log records were not published as events"

// Start starts the goroutine that publishes queued records. ctx's values are
// kept for publishing; its cancellation does not stop the Handler (Stop
// does). Calling Start again does nothing.
func (h *Handler) Start(ctx context.Context) error {
	c := h.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.stopped.Load() {
		return nil
	}
	c.started = true
	base, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), publishingKey{}, true))
	c.drain = cancel
	go h.run(base)
	return nil
}

// Stop stops publishing: records logged from now on go to the inner handler
// only. It publishes what is queued, and the count of suppressed records,
// until ctx is done; then it gives up on the rest and returns ctx's error.
// It is safe to call more than once, and before Start.
func (h *Handler) Stop(ctx context.Context) error {
	c := h.core
	c.mu.Lock()
	first := !c.stopped.Swap(true)
	started := c.started
	if first {
		close(c.quit)
	}
	c.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		c.drain()
		<-c.done
		return fmt.Errorf("stop log events: %w", ctx.Err())
	}
}

func (h *Handler) run(ctx context.Context) {
	c := h.core
	defer close(c.done)
	defer c.drain()
	tick := time.NewTicker(c.cfg.ReportInterval)
	defer tick.Stop()
	for {
		select {
		case ev := <-c.queue:
			h.publish(ctx, ev)
		case <-tick.C:
			h.reportSuppressed(ctx)
		case <-c.quit:
			for {
				select {
				case ev := <-c.queue:
					if ctx.Err() != nil {
						return
					}
					h.publish(ctx, ev)
					continue
				default:
				}
				break
			}
			if ctx.Err() == nil {
				h.reportSuppressed(ctx)
			}
			return
		}
	}
}

func (h *Handler) publish(ctx context.Context, ev event.Log) {
	pctx, cancel := context.WithTimeout(ctx, h.core.cfg.PublishTimeout)
	defer cancel()
	if _, err := h.core.cfg.Publisher.PublishNow(pctx, ev); err != nil {
		// Only the inner handler hears about it: publishing this error as an
		// event would be a loop.
		h.innerLog(ctx, slog.LevelError, "publish log event", "err", err, "message", ev.Message)
	}
}

// reportSuppressed publishes how many records were left out since the last
// report, when any were. The report bypasses the limiter: it is one event
// per interval at most.
func (h *Handler) reportSuppressed(ctx context.Context) {
	c := h.core
	limited, full := c.rateLimited.Swap(0), c.queueFull.Swap(0)
	if limited+full == 0 {
		return
	}
	h.publish(ctx, event.Log{
		Level:   slog.LevelWarn.String(),
		Module:  "logevent",
		Message: SuppressedMessage,
		Time:    time.Now(),
		Attrs: map[string]any{
			"suppressed":   limited + full,
			"rate_limited": limited,
			"queue_full":   full,
		},
	})
}

func (h *Handler) innerLog(ctx context.Context, level slog.Level, msg string, args ...any) {
	inner := h.core.cfg.Inner
	if !inner.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.Add(args...)
	_ = inner.Handle(ctx, r)
}
