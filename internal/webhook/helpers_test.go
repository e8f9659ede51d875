package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// testConfig is a Config with a schedule shrunk to milliseconds.
func testConfig() Config {
	return Config{
		Schedule:     []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 80 * time.Millisecond, 80 * time.Millisecond},
		Jitter:       -1,
		Timeout:      5 * time.Second,
		PollInterval: 10 * time.Millisecond,
	}
}

type testBundle struct {
	db      *store.DB
	bus     *event.Bus
	svc     *Service
	cfg     Config
	flushed chan struct{} // signalled after each committed batch of results
}

// setup opens a fresh database and starts a Service on it with cfg.
func setup(t testing.TB, cfg Config) *testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	b := &testBundle{db: db, cfg: cfg}
	b.startService(t)
	return b
}

// startService builds and starts a Service (with a bus of its own) on the
// bundle's database; the previous one, if any, must be stopped.
func (b *testBundle) startService(t testing.TB) {
	t.Helper()
	b.bus = event.NewBus(b.db, b.cfg.Now)
	svc, err := New(b.cfg, b.db, b.bus, nil)
	require.NoError(t, err)
	b.flushed = make(chan struct{}, 1)
	flushed := b.flushed
	svc.afterFlush = func() {
		select {
		case flushed <- struct{}{}:
		default:
		}
	}
	require.NoError(t, svc.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, svc.Stop(ctx))
	})
	b.svc = svc
}

// waitFor re-checks cond after every committed batch of results until it
// holds.
func (b *testBundle) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for !cond() {
		select {
		case <-b.flushed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (b *testBundle) publish(t testing.TB, data event.Data) *event.Event {
	t.Helper()
	ev, err := b.bus.PublishNow(context.Background(), data)
	require.NoError(t, err)
	return ev
}

func (b *testBundle) create(t testing.TB, p CreateParams) *Endpoint {
	t.Helper()
	ep, err := b.svc.Create(context.Background(), p)
	require.NoError(t, err)
	return ep
}

func (b *testBundle) deliveries(t *testing.T, endpointID int64) []*Delivery {
	t.Helper()
	ds, err := b.svc.ListDeliveries(context.Background(), endpointID, DeliveryListParams{Limit: 1000})
	require.NoError(t, err)
	return ds
}

func (b *testBundle) attempts(t *testing.T, endpointID int64) []*Attempt {
	t.Helper()
	as, err := b.svc.ListAttempts(context.Background(), endpointID, AttemptListParams{Limit: 1000})
	require.NoError(t, err)
	return as
}

func (b *testBundle) endpoint(t *testing.T, id int64) *Endpoint {
	t.Helper()
	ep, err := b.svc.Get(context.Background(), id)
	require.NoError(t, err)
	return ep
}

// countStatus counts an endpoint's deliveries in status.
func (b *testBundle) countStatus(t *testing.T, endpointID int64, status string) int {
	n := 0
	for _, d := range b.deliveries(t, endpointID) {
		if d.Status == status {
			n++
		}
	}
	return n
}

// alerts returns the alert events in the log.
func (b *testBundle) alerts(t *testing.T) []event.Alert {
	t.Helper()
	evs, err := b.bus.List(context.Background(), event.ListParams{Actions: []event.Action{event.ActionAlert}, Limit: 1000})
	require.NoError(t, err)
	var out []event.Alert
	for _, ev := range evs {
		var env struct{ Data event.Alert }
		require.NoError(t, json.Unmarshal(ev.Body, &env))
		out = append(out, env.Data)
	}
	return out
}

func endCapture(title string) event.EndCapture {
	return event.EndCapture{VOD: dvr.VOD{ID: 1, Basename: "chan_" + title, ChannelName: "chan", Title: title, Status: "capturing"}, Success: true}
}

// received is one request a receiver got.
type received struct {
	ID        string
	Path      string
	Action    event.Action
	Body      []byte
	Header    http.Header
	VerifyErr map[string]error // secret -> result of the library's Verify
	At        time.Time
}

// receiver is a webhook receiver that verifies every request with the
// Standard Webhooks reference library against each of its secrets.
type receiver struct {
	*httptest.Server
	// respond decides the answer to the n-th request (from 1); nil: 204.
	respond func(n int, w http.ResponseWriter, r *http.Request)

	mu      sync.Mutex
	secrets []string
	got     []received
	changed chan struct{}
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond, changed: make(chan struct{}, 1)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

// trust adds a secret that every later request is verified with.
func (rc *receiver) trust(secret string) {
	rc.mu.Lock()
	rc.secrets = append(rc.secrets, secret)
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	got := received{ID: r.Header.Get("webhook-id"), Path: r.URL.Path, Body: body, Header: r.Header.Clone(), VerifyErr: map[string]error{}, At: time.Now()}
	var env event.Envelope
	if json.Unmarshal(body, &env) == nil {
		got.Action = env.Action
	}
	rc.mu.Lock()
	for _, s := range rc.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		got.VerifyErr[s] = err
	}
	rc.got = append(rc.got, got)
	n := len(rc.got)
	rc.mu.Unlock()
	select {
	case rc.changed <- struct{}{}:
	default:
	}
	if rc.respond == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rc.respond(n, w, r)
}

// all returns every request so far.
func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitN waits until at least n requests arrived and returns them all.
func (rc *receiver) waitN(t *testing.T, n int) []received {
	t.Helper()
	return rc.waitUntil(t, "requests", func(got []received) bool { return len(got) >= n })
}

// waitUntil waits until cond holds for the requests so far.
func (rc *receiver) waitUntil(t *testing.T, what string, cond func([]received) bool) []received {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		got := rc.all()
		if cond(got) {
			return got
		}
		select {
		case <-rc.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %d requests", what, len(got))
		}
	}
}

// requireVerified fails unless every request verified with secret.
func requireVerified(t *testing.T, got []received, secret string) {
	t.Helper()
	for _, g := range got {
		err, ok := g.VerifyErr[secret]
		require.True(t, ok, "request %s was not checked against the secret", g.ID)
		require.NoError(t, err, "request %s does not verify", g.ID)
	}
}

// testClock is a clock that moves only when told to.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Millisecond)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}
