package ws

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

type dropInfo struct {
	clientID string
	reason   string
}

type testBundle struct {
	db    *store.DB
	bus   *event.Bus
	hub   *Hub
	reg   *prometheus.Registry
	url   string // ws://127.0.0.1:PORT/api/v1/ws
	http  string // http://127.0.0.1:PORT/api/v1/ws
	drops chan dropInfo
}

func setup(t testing.TB, cfg Config) *testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	bus := event.NewBus(db, nil)
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	if cfg.Version == "" {
		cfg.Version = "v1.2.3-test"
	}
	if cfg.ResumeWait == 0 {
		cfg.ResumeWait = 100 * time.Millisecond
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := New(cfg, db, bus, logger)
	drops := make(chan dropInfo, 100)
	hub.onDrop = func(id, reason string) { drops <- dropInfo{id, reason} }
	require.NoError(t, hub.Start(ctx))

	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/ws", hub)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hub.Stop(stopCtx)
		srv.Close()
	})
	return &testBundle{
		db: db, bus: bus, hub: hub, reg: reg, drops: drops,
		url:  "ws://" + srv.Listener.Addr().String() + "/api/v1/ws",
		http: "http://" + srv.Listener.Addr().String() + "/api/v1/ws",
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (b *testBundle) dial(t testing.TB, ctx context.Context, query string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	u := b.url
	if query != "" {
		u += "?" + query
	}
	conn, _, err := websocket.Dial(ctx, u, opts)
	require.NoError(t, err)
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func (b *testBundle) publish(t testing.TB, title string) *event.Event {
	t.Helper()
	ev, err := b.bus.PublishNow(context.Background(), event.Notify{Title: title, Body: "b", Category: "test"})
	require.NoError(t, err)
	return ev
}

func readEnvelope(t testing.TB, ctx context.Context, conn *websocket.Conn) (event.Envelope, []byte) {
	t.Helper()
	typ, msg, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ)
	var env event.Envelope
	require.NoError(t, json.Unmarshal(msg, &env), "message %s", msg)
	return env, msg
}

func readConnected(t testing.TB, ctx context.Context, conn *websocket.Conn) event.Connected {
	t.Helper()
	env, _ := readEnvelope(t, ctx, conn)
	require.Equal(t, event.ActionConnected, env.Action)
	var c event.Connected
	require.NoError(t, json.Unmarshal(env.Data, &c))
	return c
}

// readSeqs reads envelopes until one with seq >= until and returns every
// seq seen.
func readSeqs(t testing.TB, ctx context.Context, conn *websocket.Conn, until int64) []int64 {
	t.Helper()
	var seqs []int64
	for {
		env, _ := readEnvelope(t, ctx, conn)
		seqs = append(seqs, env.Seq)
		if env.Seq >= until {
			return seqs
		}
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestConnectedFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Now: func() time.Time { return time.Date(2026, 12, 4, 19, 20, 0, 123456789, time.UTC) }})
	ctx := testCtx(t)
	b.publish(t, "one")
	b.publish(t, "two")

	conn := b.dial(t, ctx, "", nil)
	env, raw := readEnvelope(t, ctx, conn)
	require.Equal(t, event.ActionConnected, env.Action)
	require.Equal(t, int64(0), env.Seq)
	require.True(t, strings.HasPrefix(env.ID, "evt_"), env.ID)
	require.Len(t, env.ID, len("evt_")+26)
	require.Equal(t, "2026-12-04T19:20:00.123Z", env.Timestamp)
	var c event.Connected
	require.NoError(t, json.Unmarshal(env.Data, &c))
	require.True(t, strings.HasPrefix(c.ClientID, "wsc_"), c.ClientID)
	require.Equal(t, "v1.2.3-test", c.Version)
	require.Equal(t, int64(2), c.LastSeq)
	// The envelope has exactly the fields of every other event.
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &fields))
	require.Len(t, fields, 5)

	require.Equal(t, 1, b.hub.Count())
	require.Equal(t, 1.0, testutil.ToFloat64(b.hub.clientsGauge))

	// connected is never stored in the log.
	evs, err := b.bus.List(ctx, event.ListParams{Actions: []event.Action{event.ActionConnected}})
	require.NoError(t, err)
	require.Empty(t, evs)

	// Without a resume request, the client gets what follows, not the past.
	ev := b.publish(t, "three")
	got, body := readEnvelope(t, ctx, conn)
	require.Equal(t, ev.Seq, got.Seq)
	require.Equal(t, ev.Body, body)
}

func TestEventsInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	ctx := testCtx(t)
	conn1 := b.dial(t, ctx, "", nil)
	conn2 := b.dial(t, ctx, "", nil)
	readConnected(t, ctx, conn1)
	readConnected(t, ctx, conn2)

	var bodies [][]byte
	for i := range 50 {
		bodies = append(bodies, b.publish(t, "event "+strconv.Itoa(i)).Body)
	}
	for _, conn := range []*websocket.Conn{conn1, conn2} {
		for i, want := range bodies {
			env, got := readEnvelope(t, ctx, conn)
			require.Equal(t, int64(i+1), env.Seq)
			require.Equal(t, want, got, "the exact stored bytes")
		}
	}
}

// publishConcurrently publishes n events in the background and returns a
// function that waits for them and returns the last seq.
func publishConcurrently(t *testing.T, b *testBundle, n int) func() int64 {
	var (
		wg   sync.WaitGroup
		last int64
		err  error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			var ev *event.Event
			ev, err = b.bus.PublishNow(context.Background(), event.Notify{Title: "live " + strconv.Itoa(i), Category: "test"})
			if err != nil {
				return
			}
			last = ev.Seq
		}
	}()
	return func() int64 {
		wg.Wait()
		require.NoError(t, err)
		return last
	}
}

func TestResumeViaQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	ctx := testCtx(t)
	for i := range 30 {
		b.publish(t, "before "+strconv.Itoa(i))
	}
	wait := publishConcurrently(t, b, 300)
	conn := b.dial(t, ctx, "after=10", nil)
	c := readConnected(t, ctx, conn)
	require.GreaterOrEqual(t, c.LastSeq, int64(30))
	last := wait()

	require.Equal(t, seqRange(11, last), readSeqs(t, ctx, conn, last), "no gap, no duplicate")
}

func TestResumeViaFirstMessage(t *testing.T) {
	t.Parallel()
	// A long window: the hub must act on the message, not on the timer.
	b := setup(t, Config{ResumeWait: time.Minute})
	ctx := testCtx(t)
	for i := range 30 {
		b.publish(t, "before "+strconv.Itoa(i))
	}
	wait := publishConcurrently(t, b, 300)
	conn := b.dial(t, ctx, "", nil)
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(`{"after":5}`)))
	readConnected(t, ctx, conn)
	last := wait()

	require.Equal(t, seqRange(6, last), readSeqs(t, ctx, conn, last), "no gap, no duplicate")
}

func TestResumeReplaysMoreThanOnePage(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{SendBuffer: 4096})
	ctx := testCtx(t)
	err := b.db.InTx(ctx, func(tx *store.Tx) error {
		for i := range 2500 {
			if _, err := b.bus.Publish(ctx, tx, event.Notify{Title: "bulk " + strconv.Itoa(i), Category: "test"}); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	conn := b.dial(t, ctx, "after=0", nil)
	readConnected(t, ctx, conn)
	ev := b.publish(t, "live")
	require.Equal(t, seqRange(1, ev.Seq), readSeqs(t, ctx, conn, ev.Seq))
}

func TestResumeAfterBeyondLogGoesLive(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	ctx := testCtx(t)
	b.publish(t, "one")
	// The client saw seq 500 of a log that has since been reset.
	conn := b.dial(t, ctx, "after=500", nil)
	c := readConnected(t, ctx, conn)
	require.Equal(t, int64(1), c.LastSeq)
	ev := b.publish(t, "two")
	env, _ := readEnvelope(t, ctx, conn)
	require.Equal(t, ev.Seq, env.Seq)
}

func TestBadAfterIsRejectedBeforeUpgrade(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	resp, err := http.Get(b.http + "?after=abc")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	require.JSONEq(t, `{"error":{"code":"invalid","message":"query parameter after must be a seq of 0 or more, got \"abc\""}}`, string(body))
}

func TestPingPong(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{ResumeWait: time.Minute})
	ctx := testCtx(t)
	conn := b.dial(t, ctx, "", nil)
	readConnected(t, ctx, conn)
	// A first message "ping" also ends the resume window at once.
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte("ping")))
	typ, msg, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ)
	require.Equal(t, "pong", string(msg))

	// Unknown messages are ignored and the stream goes on.
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(`{"hello":"world"}`)))
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte("ping")))
	_, msg, err = conn.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "pong", string(msg))
	ev := b.publish(t, "after ping")
	env, _ := readEnvelope(t, ctx, conn)
	require.Equal(t, ev.Seq, env.Seq)
}

// smallReceiveBuffer dials with a tiny socket receive buffer, so that a
// client that never reads fills up after a few messages instead of
// megabytes.
func smallReceiveBuffer() *websocket.DialOptions {
	d := &net.Dialer{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	return &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
}

func TestSlowClientIsDroppedOthersKeepReceiving(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{SendBuffer: 16, WriteTimeout: 10 * time.Second, PingInterval: time.Hour})
	ctx := testCtx(t)

	slow := b.dial(t, ctx, "after=0", smallReceiveBuffer())
	fast := b.dial(t, ctx, "after=0", nil)
	fastSeqs := make(chan int64, 10000)
	fastErr := make(chan error, 1)
	go func() {
		for {
			_, msg, err := fast.Read(ctx)
			if err != nil {
				fastErr <- err
				return
			}
			var env event.Envelope
			if err := json.Unmarshal(msg, &env); err != nil {
				fastErr <- err
				return
			}
			fastSeqs <- env.Seq
		}
	}()

	// The fast client reads each event before the next is published, so
	// only the client that never reads can fill its buffer, however busy
	// the machine is.
	var got []int64
	awaitFast := func(seq int64) {
		t.Helper()
		for len(got) == 0 || got[len(got)-1] < seq {
			select {
			case s := <-fastSeqs:
				got = append(got, s)
			case err := <-fastErr:
				t.Fatalf("fast client: %v", err)
			}
		}
	}
	big := strings.Repeat("x", 32<<10)
	var (
		last    int64
		dropped dropInfo
	)
publish:
	for i := 0; ; i++ {
		require.Less(t, i, 2000, "the slow client was never dropped")
		ev, err := b.bus.PublishNow(ctx, event.Notify{Title: "big", Body: big, Category: "test"})
		require.NoError(t, err)
		last = ev.Seq
		awaitFast(last)
		select {
		case dropped = <-b.drops:
			break publish
		default:
		}
	}
	require.Equal(t, ReasonSlowConsumer, dropped.reason)
	require.Equal(t, 1.0, testutil.ToFloat64(b.hub.dropped.WithLabelValues(ReasonSlowConsumer)))
	for range 20 {
		last = b.publish(t, "after the drop").Seq
		awaitFast(last)
	}

	// The slow client, once it reads, finds what was in flight, then the
	// close frame with the reason.
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = slow.Read(ctx)
	}
	var ce websocket.CloseError
	require.ErrorAs(t, closeErr, &ce)
	require.Equal(t, websocket.StatusPolicyViolation, ce.Code)
	require.Equal(t, SlowConsumerReason, ce.Reason)

	// The fast client got the connected message and every event in order.
	awaitFast(last)
	require.Equal(t, append([]int64{0}, seqRange(1, last)...), got)
	require.Eventually(t, func() bool { return b.hub.Count() == 1 }, 5*time.Second, 5*time.Millisecond)
}

func TestUnresponsiveClientIsDroppedOnPingTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{PingInterval: 20 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	ctx := testCtx(t)
	// Pongs are only answered while a read is in progress: never reading
	// makes this client unresponsive.
	b.dial(t, ctx, "", nil)
	alive := b.dial(t, ctx, "", nil)
	readConnected(t, ctx, alive)
	// Reading in the background keeps this one answering pings.
	received := make(chan []byte, 1)
	go func() {
		_, msg, _ := alive.Read(ctx)
		received <- msg
	}()

	select {
	case d := <-b.drops:
		require.Equal(t, ReasonPingTimeout, d.reason)
	case <-ctx.Done():
		t.Fatal("the unresponsive client was never dropped")
	}
	require.Eventually(t, func() bool { return b.hub.Count() == 1 }, 5*time.Second, 5*time.Millisecond)
	ev := b.publish(t, "still here")
	require.Equal(t, string(ev.Body), string(<-received))
}

func TestAuthorizeRejectsBeforeUpgrade(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Authorize: func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			return dvr.Errorf(dvr.EUNAUTHORIZED, "missing or wrong API token")
		}
		return nil
	}})
	ctx := testCtx(t)

	_, resp, err := websocket.Dial(ctx, b.url, nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp2, err := http.Get(b.http)
	require.NoError(t, err)
	defer resp2.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp2.StatusCode)
	require.Equal(t, "application/json", resp2.Header.Get("Content-Type"))
	body, _ := io.ReadAll(resp2.Body)
	require.JSONEq(t, `{"error":{"code":"unauthorized","message":"missing or wrong API token"}}`, string(body))
	require.Equal(t, 0, b.hub.Count())

	conn := b.dial(t, ctx, "", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer s3cret"}}})
	readConnected(t, ctx, conn)
}

func TestStopClosesClients(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	ctx := testCtx(t)
	conns := []*websocket.Conn{b.dial(t, ctx, "", nil), b.dial(t, ctx, "after=0", nil)}
	errs := make(chan error, len(conns))
	for _, conn := range conns {
		readConnected(t, ctx, conn)
		go func() {
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	require.Eventually(t, func() bool { return b.hub.Count() == 2 }, 5*time.Second, 5*time.Millisecond)

	require.NoError(t, b.hub.Stop(ctx))
	for range conns {
		require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(<-errs))
	}
	require.Equal(t, 0, b.hub.Count())
	require.NoError(t, b.hub.Stop(ctx), "a second Stop is harmless")
	require.Error(t, b.hub.Start(ctx))

	resp, err := http.Get(b.http)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestParseClientMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		typ      websocket.MessageType
		msg      string
		want     firstMessage
		wantPing bool
	}{
		{"ping", websocket.MessageText, "ping", firstMessage{}, true},
		{"after", websocket.MessageText, `{"after":42}`, firstMessage{after: 42, hasAfter: true}, false},
		{"after zero", websocket.MessageText, `{"after":0}`, firstMessage{after: 0, hasAfter: true}, false},
		{"negative after", websocket.MessageText, `{"after":-1}`, firstMessage{}, false},
		{"no after", websocket.MessageText, `{"seq":4}`, firstMessage{}, false},
		{"not json", websocket.MessageText, `hello`, firstMessage{}, false},
		{"binary ping", websocket.MessageBinary, "ping", firstMessage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, isPing := parseClientMessage(tt.typ, []byte(tt.msg))
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantPing, isPing)
		})
	}
}

// fakeClients registers n clients that are never served, so broadcast can
// be observed alone.
func fakeClients(h *Hub, n, buffer int) []*client {
	var out []*client
	h.mu.Lock()
	defer h.mu.Unlock()
	for range n {
		c := &client{hub: h, send: make(chan *event.Event, buffer), kick: make(chan struct{})}
		h.clients[c] = struct{}{}
		out = append(out, c)
	}
	return out
}

func TestBroadcastSharesTheBody(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	clients := fakeClients(b.hub, 100, 1)
	ev := &event.Event{Seq: 1, Body: []byte(`{"seq":1}`)}
	b.hub.broadcast(ev)
	for _, c := range clients {
		require.Same(t, ev, <-c.send, "every client gets the same event and body")
	}
	b.hub.mu.Lock()
	clear(b.hub.clients)
	b.hub.mu.Unlock()
}
