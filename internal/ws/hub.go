package ws

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Defaults of Config.
const (
	DefaultSendBuffer   = 256
	DefaultPingInterval = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultResumeWait   = time.Second
)

// Drop reasons, the values of the reason label of lsdvr_ws_dropped_total.
const (
	ReasonSlowConsumer = "slow_consumer" // the send buffer was full
	ReasonPingTimeout  = "ping_timeout"  // no pong within WriteTimeout
	ReasonWriteError   = "write_error"   // a write failed or timed out
)

// SlowConsumerReason is the close reason sent to a client dropped because
// its send buffer was full (with status 1008, policy violation).
const SlowConsumerReason = "slow consumer: send buffer full"

// Config configures a Hub. Zero values take the documented defaults.
type Config struct {
	// SendBuffer is how many events may wait for one client before it is
	// dropped as a slow consumer. Default 256.
	SendBuffer int
	// PingInterval is the time between keepalive pings. Default 30 s.
	PingInterval time.Duration
	// WriteTimeout bounds each write to a client and the wait for a pong.
	// Default 10 s.
	WriteTimeout time.Duration
	// ResumeWait is how long the hub waits for a first {"after":SEQ}
	// message when the URL has no ?after. Default 1 s.
	ResumeWait time.Duration
	// Authorize, when set, runs before the upgrade; an error answers 401
	// with the JSON error body. Nil means anyone may connect.
	Authorize func(*http.Request) error
	// OriginPatterns are extra hosts allowed in the Origin header of
	// browser clients (same-origin requests are always allowed); see
	// websocket.AcceptOptions.
	OriginPatterns []string
	// Version is the server version reported in connected messages.
	Version string
	// Now is the clock for connected envelopes. Default time.Now.
	Now func() time.Time
	// Registerer receives the hub's metrics (gauge lsdvr_ws_clients,
	// counter lsdvr_ws_dropped_total{reason}). Nil means not registered.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if c.SendBuffer <= 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.ResumeWait <= 0 {
		c.ResumeWait = DefaultResumeWait
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Hub serves the websocket at GET /api/v1/ws and fans events out to its
// clients. It is safe for concurrent use.
type Hub struct {
	cfg    Config
	db     *store.DB
	logger *slog.Logger

	clientsGauge prometheus.Gauge
	dropped      *prometheus.CounterVec

	entropyMu sync.Mutex
	entropy   *ulid.MonotonicEntropy

	mu      sync.RWMutex
	running bool
	done    chan struct{} // closed by Stop
	stopped bool
	clients map[*client]struct{}
	wg      sync.WaitGroup // one per ServeHTTP that got past the running check

	// onDrop, when set (tests only), is told of every dropped client.
	onDrop func(clientID, reason string)
}

// New returns a Hub that reads the event log from db and receives live
// events from bus. It subscribes to bus, so call it before the first
// publish. The hub refuses connections until Start.
func New(cfg Config, db *store.DB, bus *event.Bus, logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.Default()
	}
	h := &Hub{
		cfg:     cfg.withDefaults(),
		db:      db,
		logger:  logger,
		entropy: ulid.Monotonic(rand.Reader, 0),
		done:    make(chan struct{}),
		clients: make(map[*client]struct{}),
		clientsGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lsdvr_ws_clients",
			Help: "Websocket clients connected now.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lsdvr_ws_dropped_total",
			Help: "Websocket clients the server disconnected, by reason: slow_consumer, ping_timeout, write_error.",
		}, []string{"reason"}),
	}
	if r := h.cfg.Registerer; r != nil {
		h.clientsGauge = register(r, h.clientsGauge, logger)
		h.dropped = register(r, h.dropped, logger)
	}
	bus.Subscribe(h.broadcast)
	return h
}

// register registers c, reusing an identical collector already there so
// that a second hub in one process shares the series instead of failing.
func register[C prometheus.Collector](r prometheus.Registerer, c C, logger *slog.Logger) C {
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		logger.Warn("register websocket metric", "err", err)
	}
	return c
}

// Start lets the hub accept connections. It returns an error after Stop.
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return errors.New("start websocket hub: already stopped")
	}
	h.running = true
	return nil
}

// Stop refuses new connections, closes every client with status 1001
// (going away) and waits until their handlers have returned or ctx is done.
// It is safe to call more than once.
func (h *Hub) Stop(ctx context.Context) error {
	h.mu.Lock()
	if !h.stopped {
		h.stopped = true
		h.running = false
		close(h.done)
	}
	h.mu.Unlock()
	waited := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Count returns the number of connected clients.
func (h *Hub) Count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// broadcast hands ev to every client without blocking: the bus calls it
// while the next transaction waits to commit. Every client shares ev and
// its Body; a client whose buffer is full is dropped.
func (h *Hub) broadcast(ev *event.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		select {
		case c.send <- ev:
		default:
			h.drop(c, ReasonSlowConsumer)
		}
	}
}

// drop marks c to be closed for reason; the first reason wins.
func (h *Hub) drop(c *client, reason string) {
	c.kickOnce.Do(func() {
		c.kickReason = reason
		close(c.kick)
		h.dropped.WithLabelValues(reason).Inc()
		h.logger.Info("websocket client dropped", "client_id", c.id, "reason", reason)
		if h.onDrop != nil {
			h.onDrop(c.id, reason)
		}
	})
}

func (h *Hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.clientsGauge.Inc()
}

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	h.clientsGauge.Dec()
}

func (h *Hub) newULID() string {
	h.entropyMu.Lock()
	defer h.entropyMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(h.cfg.Now()), h.entropy).String()
}

// ServeHTTP upgrades GET /api/v1/ws. Authorization and ?after are checked
// before the upgrade, so their failures are plain JSON errors (401, 400).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Authorize != nil {
		if err := h.cfg.Authorize(r); err != nil {
			writeError(w, http.StatusUnauthorized, dvr.EUNAUTHORIZED, unauthorizedMessage(err))
			return
		}
	}
	after := int64(-1)
	if raw := r.URL.Query().Get("after"); raw != "" {
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < 0 {
			writeError(w, http.StatusBadRequest, dvr.EINVALID, "query parameter after must be a seq of 0 or more, got "+strconv.Quote(raw))
			return
		}
		after = v
	}
	h.mu.Lock()
	if !h.running {
		h.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, dvr.EUNAVAILABLE, "the websocket hub is not running")
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.cfg.OriginPatterns})
	if err != nil {
		// Accept has already answered the request.
		h.logger.Debug("websocket accept", "err", err)
		return
	}
	c := &client{
		hub:   h,
		id:    "wsc_" + h.newULID(),
		conn:  conn,
		send:  make(chan *event.Event, h.cfg.SendBuffer),
		ctrl:  make(chan []byte, 4),
		first: make(chan firstMessage, 1),
		kick:  make(chan struct{}),
	}
	c.serve(r.Context(), after)
}

func unauthorizedMessage(err error) string {
	if dvr.ErrorCode(err) != dvr.EINTERNAL {
		return dvr.ErrorMessage(err)
	}
	return "missing or invalid credentials"
}

// writeError writes the API's JSON error shape; the hub answers before any
// upgrade, so clients see the same errors as on every other route.
func writeError(w http.ResponseWriter, status int, code, message string) {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code = code
	body.Error.Message = message
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
