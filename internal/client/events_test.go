package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/ws"
)

// script is what the fake server does on one connection.
type script func(ctx context.Context, conn *websocket.Conn) error

// fakeStream is a websocket server that plays one script per connection
// and records the query of each.
type fakeStream struct {
	mu      sync.Mutex
	scripts []script
	queries []string
}

func (f *fakeStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer tok" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":"unauthorized","message":"wrong token"}}`)
		return
	}
	f.mu.Lock()
	n := len(f.queries)
	f.queries = append(f.queries, r.URL.RawQuery)
	f.mu.Unlock()
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	if n >= len(f.scripts) {
		<-r.Context().Done()
		return
	}
	_ = f.scripts[n](r.Context(), conn)
}

func (f *fakeStream) seenQueries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

func envelope(t *testing.T, seq int64, action event.Action, data any) []byte {
	t.Helper()
	raw, err := json.Marshal(data)
	require.NoError(t, err)
	body, err := json.Marshal(event.Envelope{ID: "evt_x", Seq: seq, Action: action, Timestamp: "2026-12-04T19:20:00.123Z", Data: raw})
	require.NoError(t, err)
	return body
}

func send(t *testing.T, msgs ...[]byte) script {
	return func(ctx context.Context, conn *websocket.Conn) error {
		for _, m := range msgs {
			if err := conn.Write(ctx, websocket.MessageText, m); err != nil {
				return err
			}
		}
		// Drop the connection the hard way, as a crash or network cut would.
		return conn.CloseNow()
	}
}

var errEnough = errors.New("enough")

func TestTailEventsReconnectsWithLastSeq(t *testing.T) {
	t.Parallel()
	f := &fakeStream{}
	f.scripts = []script{
		send(t,
			envelope(t, 0, event.ActionConnected, event.Connected{ClientID: "a", LastSeq: 5}),
			envelope(t, 6, event.ActionNotify, event.Notify{Title: "six"}),
			envelope(t, 7, event.ActionAlert, event.Alert{Text: "seven"}),
		),
		send(t, envelope(t, 0, event.ActionConnected, event.Connected{ClientID: "b", LastSeq: 9})),
		send(t,
			envelope(t, 0, event.ActionConnected, event.Connected{ClientID: "c", LastSeq: 9}),
			[]byte("pong"),
			envelope(t, 8, event.ActionNotify, event.Notify{Title: "eight"}),
		),
	}
	c, err := client.New(serve(t, f), "tok")
	require.NoError(t, err)

	var (
		got       []int64
		connected []string
		drops     int
	)
	err = c.TailEvents(context.Background(), client.TailParams{
		After:        3,
		Actions:      []string{"notify"},
		MinBackoff:   time.Millisecond,
		MaxBackoff:   2 * time.Millisecond,
		OnConnect:    func(c event.Connected) { connected = append(connected, c.ClientID) },
		OnDisconnect: func(error, time.Duration) { drops++ },
	}, func(env event.Envelope, raw []byte) error {
		require.Equal(t, event.ActionNotify, env.Action)
		got = append(got, env.Seq)
		if env.Seq == 8 {
			return errEnough
		}
		return nil
	})
	require.ErrorIs(t, err, errEnough)
	require.Equal(t, []int64{6, 8}, got, "only notify events reach the callback")
	require.Equal(t, []string{"a", "b", "c"}, connected)
	require.Equal(t, 2, drops)
	// The filtered-out alert still moved the resume point to 7.
	require.Equal(t, []string{"after=3", "after=7", "after=7"}, f.seenQueries())
}

func TestTailEventsFromNowResumesFromConnected(t *testing.T) {
	t.Parallel()
	f := &fakeStream{}
	f.scripts = []script{
		send(t, envelope(t, 0, event.ActionConnected, event.Connected{LastSeq: 41})),
		send(t,
			envelope(t, 0, event.ActionConnected, event.Connected{LastSeq: 43}),
			envelope(t, 42, event.ActionLog, event.Log{Message: "m"}),
		),
	}
	c, err := client.New(serve(t, f), "tok")
	require.NoError(t, err)
	var got []int64
	err = c.TailEvents(context.Background(), client.TailParams{After: -1, MinBackoff: time.Millisecond},
		func(env event.Envelope, raw []byte) error {
			got = append(got, env.Seq)
			return errEnough
		})
	require.ErrorIs(t, err, errEnough)
	require.Equal(t, []int64{42}, got)
	require.Equal(t, []string{"", "after=41"}, f.seenQueries(), "a drop before any event resumes from connected.last_seq")
}

func TestTailEventsStopsOnRefusal(t *testing.T) {
	t.Parallel()
	c, err := client.New(serve(t, &fakeStream{}), "wrong")
	require.NoError(t, err)
	err = c.TailEvents(context.Background(), client.TailParams{MinBackoff: time.Millisecond}, func(event.Envelope, []byte) error {
		return nil
	})
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.Status)
	require.Equal(t, "wrong token", apiErr.Message)
}

func TestTailEventsReturnsNilOnCancel(t *testing.T) {
	t.Parallel()
	f := &fakeStream{} // no scripts: every connection just stays open
	c, err := client.New(serve(t, f), "tok")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.TailEvents(ctx, client.TailParams{}, func(event.Envelope, []byte) error { return nil })
	}()
	require.Eventually(t, func() bool { return len(f.seenQueries()) == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("TailEvents did not return after cancel")
	}
}

type liveBundle struct {
	client *client.Client
	bus    *event.Bus
}

// setupLive runs the real events routes and hub on one server.
func setupLive(t *testing.T) *liveBundle {
	t.Helper()
	ctx := context.Background()
	db := openDB(t)
	bus := event.NewBus(db, nil)
	logger := quietLogger()
	hub := ws.New(ws.Config{ResumeWait: 10 * time.Millisecond}, db, bus, logger)
	require.NoError(t, hub.Start(ctx))
	srv := api.New(logger, api.NewEvents(db, bus))
	srv.Handle("GET /api/v1/ws", hub)
	base := serve(t, srv)
	t.Cleanup(func() { _ = hub.Stop(ctx) })
	c, err := client.New(base, "")
	require.NoError(t, err)
	return &liveBundle{client: c, bus: bus}
}

func TestNotifyListAndTailAgainstServer(t *testing.T) {
	t.Parallel()
	b := setupLive(t)
	ctx := context.Background()
	for _, title := range []string{"one", "two", "three"} {
		res, err := b.client.Notify(ctx, client.Notice{Title: title, Category: "test"})
		require.NoError(t, err)
		require.NotEmpty(t, res.EventID)
	}
	_, err := b.bus.PublishNow(ctx, event.Alert{Text: "disk", Level: event.LevelWarning})
	require.NoError(t, err)

	page, err := b.client.ListEvents(ctx, client.ListEventsParams{After: 1, Limit: 5, Actions: []string{"notify", "alert"}})
	require.NoError(t, err)
	require.Len(t, page.Items, 3)
	require.Equal(t, int64(4), page.LastSeq)

	_, err = b.client.Notify(ctx, client.Notice{})
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "title is required", apiErr.Message)

	var titles []string
	err = b.client.TailEvents(ctx, client.TailParams{After: 0, Actions: []string{"notify"}}, func(env event.Envelope, raw []byte) error {
		var n event.Notify
		require.NoError(t, json.Unmarshal(env.Data, &n))
		titles = append(titles, n.Title)
		if len(titles) == 3 {
			return errEnough
		}
		return nil
	})
	require.ErrorIs(t, err, errEnough)
	require.Equal(t, []string{"one", "two", "three"}, titles)
}
