package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/format"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/specialized/generic"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"

	"github.com/lsdvr/lsdvr/internal/event"
)

// Config configures a Notifier. Zero values mean the documented defaults.
type Config struct {
	// URLs are shoutrrr service URLs, e.g. ntfy://ntfy.sh/topic. They hold
	// tokens, so they are never logged; services are named by index and
	// scheme.
	URLs []string
	// Categories limits notify events to these categories; empty sends all.
	Categories []string
	// Alerts sends alert events too.
	Alerts bool
	// Logger receives send failures and drops; nil discards them.
	Logger *slog.Logger
	// Timeout bounds one send to one service; default 10 s.
	Timeout time.Duration
	// QueueSize bounds the messages waiting to be sent; default 256.
	// Messages arriving when it is full are dropped and counted.
	QueueSize int
}

// Notifier sends notify and alert events to the configured services. Handle
// is safe for concurrent use and never blocks.
type Notifier struct {
	cfg      Config
	logger   *slog.Logger
	services []*service
	queue    chan message
	dropped  atomic.Int64

	mu      sync.Mutex
	started bool
	stopped bool
	quit    chan struct{}
	done    chan struct{}
	abort   context.CancelFunc
}

// service is one configured URL.
type service struct {
	index  int
	scheme string
	url    string // holds tokens: never logged
	title  bool   // the service shows a "title" param
	// busy is set while a send is in flight; a service still stuck on an
	// earlier message past the timeout is skipped rather than sent to
	// concurrently (some services keep per-send state).
	busy atomic.Bool
}

// message is one notification, ready to send.
type message struct {
	title string
	body  string
}

// New builds the services of cfg.URLs without sending anything. A bad URL
// is an error naming its index (notify.urls[i]) and at most its scheme.
func New(cfg Config) (*Notifier, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{
		cfg:    cfg,
		logger: logger,
		queue:  make(chan message, cfg.QueueSize),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i, raw := range cfg.URLs {
		svc, err := locate(raw)
		if err != nil {
			return nil, fmt.Errorf("notify.urls[%d] %w", i, err)
		}
		scheme, _, _ := strings.Cut(svc.GetID(), "+")
		n.services = append(n.services, &service{index: i, scheme: scheme, url: raw, title: supportsTitle(svc)})
	}
	return n, nil
}

// supportsTitle reports whether the service shows a "title" param. The
// generic webhook accepts the param but drops it unless it sends a JSON
// template, so there the title goes into the message instead.
func supportsTitle(svc types.Service) bool {
	if g, ok := svc.(*generic.Service); ok {
		return g.Config.Template != ""
	}
	cfg := format.GetServiceConfig(svc)
	if cfg == nil {
		return false
	}
	pkr := format.NewPropKeyResolver(cfg)
	return slices.Contains(pkr.QueryFields(), types.TitleKey)
}

// Dropped returns how many messages were dropped because the queue was full.
func (n *Notifier) Dropped() int64 { return n.dropped.Load() }

// Handle queues ev for sending when it is a notify event of a wanted
// category, or an alert and alerts are on; other events are ignored. Register
// it with event.Bus.Subscribe. It never blocks: when the queue is full the
// message is dropped, counted and a warning logged.
func (n *Notifier) Handle(ev *event.Event) {
	if len(n.services) == 0 {
		return
	}
	msg, ok := n.messageOf(ev)
	if !ok {
		return
	}
	select {
	case n.queue <- msg:
	default:
		total := n.dropped.Add(1)
		n.logger.Warn("notification queue full; message dropped", "module", "notify", "event_id", ev.ID, "dropped_total", total)
	}
}

func (n *Notifier) messageOf(ev *event.Event) (message, bool) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	switch ev.Action {
	case event.ActionNotify:
		var d event.Notify
		if json.Unmarshal(ev.Body, &env) != nil || json.Unmarshal(env.Data, &d) != nil {
			return message{}, false
		}
		if len(n.cfg.Categories) > 0 && !slices.Contains(n.cfg.Categories, d.Category) {
			return message{}, false
		}
		body := d.Body
		if d.URL != "" {
			body += "\n" + d.URL
		}
		return message{title: d.Title, body: body}, true
	case event.ActionAlert:
		if !n.cfg.Alerts {
			return message{}, false
		}
		var d event.Alert
		if json.Unmarshal(ev.Body, &env) != nil || json.Unmarshal(env.Data, &d) != nil {
			return message{}, false
		}
		return message{body: "[" + strings.ToUpper(d.Level) + "] " + d.Text}, true
	}
	return message{}, false
}

// Start starts the goroutine that sends queued messages. Calling it again
// does nothing.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started || n.stopped {
		return nil
	}
	n.started = true
	ctx, n.abort = context.WithCancel(context.WithoutCancel(ctx))
	go n.run(ctx)
	return nil
}

// Stop stops the sender after it has sent what is queued, or when ctx is
// done, whichever comes first; in the second case it returns ctx's error.
// It is safe to call more than once, and before Start.
func (n *Notifier) Stop(ctx context.Context) error {
	n.mu.Lock()
	if !n.stopped {
		n.stopped = true
		close(n.quit)
	}
	started := n.started
	n.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-n.done:
		return nil
	case <-ctx.Done():
		n.abort()
		<-n.done
		return fmt.Errorf("stop notifier: %w", ctx.Err())
	}
}

func (n *Notifier) run(ctx context.Context) {
	defer close(n.done)
	defer n.abort()
	for {
		select {
		case msg := <-n.queue:
			n.send(ctx, msg)
		case <-n.quit:
			for {
				select {
				case msg := <-n.queue:
					if ctx.Err() != nil {
						return
					}
					n.send(ctx, msg)
					continue
				default:
				}
				return
			}
		}
	}
}

// send delivers msg to every service at once; a failing or slow service
// does not hold up the others beyond the timeout.
func (n *Notifier) send(ctx context.Context, msg message) {
	var wg sync.WaitGroup
	for _, s := range n.services {
		if !s.busy.CompareAndSwap(false, true) {
			n.logger.Warn("notification service still busy with an earlier message; skipped",
				"module", "notify", "service", s.index, "scheme", s.scheme)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.sendOne(ctx, s, msg); err != nil {
				n.logger.Warn("notification not sent", "module", "notify", "service", s.index, "scheme", s.scheme, "err", err)
			}
		}()
	}
	wg.Wait()
}

func (n *Notifier) sendOne(ctx context.Context, s *service, msg message) error {
	// A fresh service per message: some services keep the params of the
	// last send (a title would stick to the next alert).
	svc, err := locate(s.url)
	if err != nil {
		s.busy.Store(false)
		return fmt.Errorf("send: %w", err)
	}
	text := msg.body
	params := types.Params{}
	if s.title {
		if msg.title != "" {
			params.SetTitle(msg.title)
		}
	} else if msg.title != "" {
		text = msg.title + "\n\n" + msg.body
	}
	result := make(chan error, 1)
	go func() {
		defer s.busy.Store(false)
		result <- svc.Send(text, &params)
	}()
	timer := time.NewTimer(n.cfg.Timeout)
	defer timer.Stop()
	select {
	case err := <-result:
		if err != nil {
			return fmt.Errorf("send: %s", scrub(err.Error()))
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("send: timed out after %s", n.cfg.Timeout)
	case <-ctx.Done():
		return fmt.Errorf("send: %w", ctx.Err())
	}
}

var urlRe = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"']+`)

// scrub removes URLs from a service's error text: they often hold tokens.
func scrub(s string) string {
	return urlRe.ReplaceAllString(s, "<url>")
}
