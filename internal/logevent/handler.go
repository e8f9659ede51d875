// Package logevent is a slog.Handler that writes every record to an inner
// handler (stderr, text or JSON) and publishes records at or above a level
// as log events.
//
// Publishing never happens on the caller's goroutine: records are put on a
// bounded queue and a goroutine publishes them, so logging stays safe while
// the caller holds the database's write connection. A token bucket limits
// how many records become events, so a log storm cannot flood webhook and
// websocket receivers; records left out are counted and reported in one
// event of their own.
package logevent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/lsdvr/lsdvr/internal/event"
)

// Publisher publishes an event in a transaction of its own; *event.Bus
// implements it.
type Publisher interface {
	PublishNow(ctx context.Context, data event.Data) (*event.Event, error)
}

var _ Publisher = (*event.Bus)(nil)

// Config configures a Handler. Zero values mean the documented defaults.
type Config struct {
	// Inner receives every record the Handler gets, unchanged. Required.
	Inner slog.Handler
	// Publisher publishes the log events. Required.
	Publisher Publisher
	// Level is the minimum level of records published as events; default
	// slog.LevelWarn. Pass a *slog.LevelVar to change it while running.
	Level slog.Leveler
	// Rate is the sustained number of events per second; default 10.
	Rate float64
	// Burst is how many events may be published at once above Rate;
	// default 50.
	Burst int
	// QueueSize bounds the records waiting to be published; default 1024.
	// Records arriving when it is full are counted as suppressed.
	QueueSize int
	// ReportInterval is how often the count of suppressed records is
	// published, when it is not zero; default 1 s.
	ReportInterval time.Duration
	// PublishTimeout bounds one publish; default 5 s.
	PublishTimeout time.Duration
}

// Handler is the slog.Handler. Its methods are safe for concurrent use; the
// handlers returned by WithAttrs and WithGroup share its queue and limits.
type Handler struct {
	core   *core
	inner  slog.Handler
	attrs  []groupedAttr // attrs added with WithAttrs, for events
	groups []string      // groups opened with WithGroup
}

var _ slog.Handler = (*Handler)(nil)

type groupedAttr struct {
	groups []string
	attr   slog.Attr
}

// core is what a Handler and its derivatives share.
type core struct {
	cfg     Config
	level   slog.Leveler
	limiter *rate.Limiter
	queue   chan event.Log

	rateLimited atomic.Int64 // records left out by the limiter since the last report
	queueFull   atomic.Int64 // records left out because the queue was full

	mu      sync.Mutex
	started bool
	stopped atomic.Bool
	quit    chan struct{}
	done    chan struct{}
	drain   context.CancelFunc
}

// publishingKey marks the context of the Handler's own publishing, so that
// anything logged on the way is not published again.
type publishingKey struct{}

// New returns a Handler. Call Start to begin publishing; until then records
// are queued.
func New(cfg Config) (*Handler, error) {
	if cfg.Inner == nil {
		return nil, errors.New("logevent: Config.Inner is required")
	}
	if cfg.Publisher == nil {
		return nil, errors.New("logevent: Config.Publisher is required")
	}
	if cfg.Level == nil {
		cfg.Level = slog.LevelWarn
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 10
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 50
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = time.Second
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = 5 * time.Second
	}
	c := &core{
		cfg:     cfg,
		level:   cfg.Level,
		limiter: rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst),
		queue:   make(chan event.Log, cfg.QueueSize),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	return &Handler{core: c, inner: cfg.Inner}, nil
}

// SetLimit changes the rate (events per second) and burst while running;
// values of 0 or less are ignored.
func (h *Handler) SetLimit(perSecond float64, burst int) {
	if perSecond > 0 {
		h.core.limiter.SetLimit(rate.Limit(perSecond))
	}
	if burst > 0 {
		h.core.limiter.SetBurst(burst)
	}
}

// Enabled reports whether the inner handler wants the level or the level is
// published.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level) || h.publishes(ctx, level)
}

func (h *Handler) publishes(ctx context.Context, level slog.Level) bool {
	return level >= h.core.level.Level() && !h.core.stopped.Load() && ctx.Value(publishingKey{}) == nil
}

// Handle writes r to the inner handler when it is enabled for r's level,
// and queues it for publishing when r is at or above the publishing level.
// It never blocks on publishing: a record over the rate limit or arriving
// when the queue is full is counted and reported later as suppressed. The
// error is the inner handler's.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.inner.Enabled(ctx, r.Level) {
		err = h.inner.Handle(ctx, r)
	}
	if !h.publishes(ctx, r.Level) {
		return err
	}
	if !h.core.limiter.Allow() {
		h.core.rateLimited.Add(1)
		return err
	}
	select {
	case h.core.queue <- h.toEvent(r):
	default:
		h.core.queueFull.Add(1)
	}
	return err
}

// WithAttrs returns a Handler whose records carry attrs too.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := h.clone()
	h2.inner = h.inner.WithAttrs(attrs)
	for _, a := range attrs {
		h2.attrs = append(h2.attrs, groupedAttr{groups: h.groups, attr: a})
	}
	return h2
}

// WithGroup returns a Handler that nests later attrs under name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	h2.inner = h.inner.WithGroup(name)
	h2.groups = append(slices.Clip(h.groups), name)
	return h2
}

func (h *Handler) clone() *Handler {
	return &Handler{core: h.core, inner: h.inner, attrs: slices.Clip(h.attrs), groups: slices.Clip(h.groups)}
}

// toEvent turns a record into a log event's payload: the "module" attr at the
// top level (or else the outermost group) is the module, other attrs nest
// under their groups.
func (h *Handler) toEvent(r slog.Record) event.Log {
	ev := event.Log{Level: r.Level.String(), Message: r.Message, Time: r.Time}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	attrs := map[string]any{}
	put := func(groups []string, a slog.Attr) {
		a.Value = a.Value.Resolve()
		if len(groups) == 0 && a.Key == "module" {
			ev.Module = a.Value.String()
			return
		}
		addAttr(attrs, groups, a)
	}
	for _, ga := range h.attrs {
		put(ga.groups, ga.attr)
	}
	r.Attrs(func(a slog.Attr) bool {
		put(h.groups, a)
		return true
	})
	if ev.Module == "" && len(h.groups) > 0 {
		ev.Module = h.groups[0]
	}
	if len(attrs) > 0 {
		ev.Attrs = attrs
	}
	return ev
}

// addAttr puts a into m under its groups, following slog's rules: empty
// attrs are dropped and a group with an empty key is inlined.
func addAttr(m map[string]any, groups []string, a slog.Attr) {
	if a.Equal(slog.Attr{}) {
		return
	}
	for _, g := range groups {
		child, ok := m[g].(map[string]any)
		if !ok {
			child = map[string]any{}
			m[g] = child
		}
		m = child
	}
	if a.Value.Kind() == slog.KindGroup {
		sub := a.Value.Group()
		if len(sub) == 0 {
			return
		}
		target := m
		if a.Key != "" {
			child, ok := m[a.Key].(map[string]any)
			if !ok {
				child = map[string]any{}
				m[a.Key] = child
			}
			target = child
		}
		for _, s := range sub {
			s.Value = s.Value.Resolve()
			addAttr(target, nil, s)
		}
		return
	}
	m[a.Key] = plain(a.Value)
}

// plain converts a value to something that encodes to JSON.
func plain(v slog.Value) any {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		return v.Float64()
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time().UTC().Format(time.RFC3339Nano)
	}
	switch x := v.Any().(type) {
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	if b, err := json.Marshal(v.Any()); err == nil {
		return json.RawMessage(b)
	}
	return fmt.Sprint(v.Any())
}
