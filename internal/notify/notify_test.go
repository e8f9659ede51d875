package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/notify"
)

// received is one request a receiver got.
type received struct {
	path  string
	title string // ntfy's Title header
	body  string
}

// receiver is a local notification service endpoint.
type receiver struct {
	srv *httptest.Server
	got chan received
}

func newReceiver(t *testing.T, status int, respond string) *receiver {
	t.Helper()
	r := &receiver{got: make(chan received, 16)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.got <- received{path: req.URL.Path, title: req.Header.Get("Title"), body: string(body)}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, respond)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// hostPort is the receiver's 127.0.0.1:PORT.
func (r *receiver) hostPort() string { return strings.TrimPrefix(r.srv.URL, "http://") }

func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case g := <-r.got:
		return g
	case <-time.After(10 * time.Second):
		t.Fatal("receiver got nothing")
		return received{}
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testBundle struct {
	notifier *notify.Notifier
	logs     *syncBuffer
	seq      int64
}

func setup(t *testing.T, cfg notify.Config) *testBundle {
	t.Helper()
	tb := &testBundle{logs: &syncBuffer{}}
	cfg.Logger = slog.New(slog.NewTextHandler(tb.logs, nil))
	n, err := notify.New(cfg)
	require.NoError(t, err)
	tb.notifier = n
	require.NoError(t, n.Start(context.Background()))
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	return tb
}

// ev builds an event the way the bus does.
func (tb *testBundle) ev(t *testing.T, data event.Data) *event.Event {
	t.Helper()
	tb.seq++
	payload, err := json.Marshal(data)
	require.NoError(t, err)
	body, err := json.Marshal(event.Envelope{ID: "evt_test", Seq: tb.seq, Action: data.Action(), Timestamp: "2026-12-04T19:20:00.000Z", Data: payload})
	require.NoError(t, err)
	return &event.Event{ID: "evt_test", Seq: tb.seq, Action: data.Action(), Body: body}
}

const ntfyOK = `{"id":"abc","time":1,"event":"message","topic":"dvr"}`

func TestSendsToGenericAndNtfy(t *testing.T) {
	t.Parallel()
	plain := newReceiver(t, http.StatusOK, "")
	jsonRecv := newReceiver(t, http.StatusOK, "")
	ntfy := newReceiver(t, http.StatusOK, ntfyOK)
	tb := setup(t, notify.Config{Alerts: true, URLs: []string{
		"generic://" + plain.hostPort() + "/hook?disabletls=yes",
		"generic://" + jsonRecv.hostPort() + "/json?disabletls=yes&template=json",
		"ntfy://" + ntfy.hostPort() + "/dvr?scheme=http",
	}})

	tb.notifier.Handle(tb.ev(t, event.Notify{Title: "alice is live", Body: "Playing chess", Category: "live", URL: "https://twitch.tv/alice"}))

	got := plain.next(t)
	require.Equal(t, "/hook", got.path)
	require.Equal(t, "alice is live\n\nPlaying chess\nhttps://twitch.tv/alice", got.body, "no title field: the title leads the text")

	got = jsonRecv.next(t)
	var payload map[string]string
	require.NoError(t, json.Unmarshal([]byte(got.body), &payload))
	require.Equal(t, "alice is live", payload["title"])
	require.Equal(t, "Playing chess\nhttps://twitch.tv/alice", payload["message"])

	got = ntfy.next(t)
	require.Equal(t, "/dvr", got.path)
	require.Equal(t, "alice is live", got.title)
	require.Equal(t, "Playing chess\nhttps://twitch.tv/alice", got.body)

	tb.notifier.Handle(tb.ev(t, event.Alert{Text: "disk almost full", Level: event.LevelCritical}))
	require.Equal(t, "[CRITICAL] disk almost full", plain.next(t).body)
	got = ntfy.next(t)
	require.Equal(t, "[CRITICAL] disk almost full", got.body)
	require.Empty(t, got.title, "no title left over from the previous message")
}

func TestCategoryFilterAndAlertsOff(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, http.StatusOK, "")
	tb := setup(t, notify.Config{Categories: []string{"live"}, Alerts: false, URLs: []string{"generic://" + recv.hostPort() + "/hook?disabletls=yes"}})

	// Messages are sent in order by one goroutine, so once "live" arrives,
	// anything sent before it would have arrived first.
	tb.notifier.Handle(tb.ev(t, event.Notify{Title: "test", Body: "filtered out", Category: "test"}))
	tb.notifier.Handle(tb.ev(t, event.Alert{Text: "alerts are off", Level: event.LevelError}))
	tb.notifier.Handle(tb.ev(t, event.VODUpdated{}))
	tb.notifier.Handle(tb.ev(t, event.Notify{Title: "bob is live", Body: "Speedrun", Category: "live"}))

	require.Equal(t, "bob is live\n\nSpeedrun", recv.next(t).body)
	require.NoError(t, tb.notifier.Stop(context.Background()))
	select {
	case extra := <-recv.got:
		t.Fatalf("unexpected message %q", extra.body)
	default:
	}
}

func TestOneFailingServiceDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	failing := newReceiver(t, http.StatusInternalServerError, "")
	ok := newReceiver(t, http.StatusOK, ntfyOK)
	// A port nobody listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	require.NoError(t, l.Close())

	tb := setup(t, notify.Config{URLs: []string{
		"generic://" + dead + "/secret-token-path?disabletls=yes",
		"generic://" + failing.hostPort() + "/hook?disabletls=yes",
		"ntfy://" + ok.hostPort() + "/dvr?scheme=http",
	}})
	for i := range 2 {
		tb.notifier.Handle(tb.ev(t, event.Notify{Title: "t", Body: "message " + string(rune('A'+i)), Category: "test"}))
	}
	require.Equal(t, "message A", ok.next(t).body)
	require.Equal(t, "message B", ok.next(t).body)
	require.Equal(t, "t\n\nmessage A", failing.next(t).body)
	require.NoError(t, tb.notifier.Stop(context.Background()))

	logs := tb.logs.String()
	require.Contains(t, logs, "notification not sent")
	require.Contains(t, logs, "service=0")
	require.Contains(t, logs, "service=1")
	require.NotContains(t, logs, "service=2")
	require.NotContains(t, logs, "secret-token-path", "URLs never reach the log")
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	n, err := notify.New(notify.Config{QueueSize: 2, URLs: []string{"ntfy://ntfy.sh/topic"}, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	tb := &testBundle{notifier: n}
	// Not started: nothing drains the queue.
	for range 5 {
		n.Handle(tb.ev(t, event.Notify{Title: "x", Body: "y", Category: "test"}))
	}
	require.Equal(t, int64(3), n.Dropped())
	require.Contains(t, logs.String(), "notification queue full")
	require.NoError(t, n.Stop(context.Background()))
}

func TestBadURLsNameTheIndexOnly(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url, msg string
	}{
		{"", `notify.urls[0] is empty`},
		{"hunter2-no-scheme", `notify.urls[0] is not a service URL such as ntfy://ntfy.sh/topic`},
		{"nosuch://hunter2@host", `notify.urls[0] names unknown service "nosuch"`},
		{"discord://hunter2", `notify.urls[0] is not a valid "discord" service URL`},
	} {
		_, err := notify.New(notify.Config{URLs: []string{tt.url}})
		require.EqualError(t, err, tt.msg, tt.url)
		require.NotContains(t, err.Error(), "hunter2")
	}
	require.NoError(t, notify.CheckURL("discord://token@webhookid"))
	require.NoError(t, notify.CheckURL("generic+https://example.com/hook"))
}
