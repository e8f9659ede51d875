package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type createdEndpoint struct {
	ID     int64  `json:"id"`
	Secret string `json:"secret"`
}

type eventPage struct {
	Items   []json.RawMessage `json:"items"`
	LastSeq int64             `json:"last_seq"`
}

// loggedEventIDs returns the ids of every event of the given action in the
// server's event log.
func loggedEventIDs(t *testing.T, s *server, action string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	after := int64(0)
	for {
		var page eventPage
		path := fmt.Sprintf("/api/v1/events?after=%d&limit=1000&action=%s", after, action)
		require.NoError(t, s.Client.Do(context.Background(), "GET", path, nil, &page))
		if len(page.Items) == 0 {
			return ids
		}
		for _, raw := range page.Items {
			var env struct {
				ID  string `json:"id"`
				Seq int64  `json:"seq"`
			}
			require.NoError(t, json.Unmarshal(raw, &env))
			ids[env.ID] = true
			after = env.Seq
		}
	}
}

// TestOutboxSurvivesSIGKILL kills lsdvr in the middle of a burst of 1,000
// events and proves that after a restart every committed event reached the
// receiver at least once, always under the same webhook-id.
func TestOutboxSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	const total = 1000
	dir := t.TempDir()
	env := []string{"LSDVR_WEBHOOK_SCHEDULE=0s,50ms,100ms,200ms,500ms,1s", "LSDVR_WEBHOOK_JITTER=0"}
	srv := startServer(t, dir, env...)

	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	recv := newReceiver(t, secret)
	var ep createdEndpoint
	require.NoError(t, srv.Client.Do(context.Background(), "POST", "/api/v1/webhooks",
		map[string]any{"url": recv.URL, "secret": secret, "actions": []string{"notify"}}, &ep))
	require.Equal(t, secret, ep.Secret)

	// Publish from 8 workers; kill the server once a third has committed.
	var (
		committed sync.Map // event id -> true, for every 202 the server sent
		ok        atomic.Int64
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	killAt := int64(total / 3)
	killed := make(chan struct{})
	var killOnce sync.Once
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				var res struct {
					EventID string `json:"event_id"`
				}
				err := srv.Client.Do(context.Background(), "POST", "/api/v1/notify",
					map[string]any{"title": fmt.Sprintf("burst %d", i), "category": "test"}, &res)
				if err != nil {
					return // the server is gone
				}
				committed.Store(res.EventID, true)
				if ok.Add(1) == killAt {
					killOnce.Do(func() {
						srv.Kill()
						arrived, _ := recv.snapshot()
						t.Logf("killed with %d events acknowledged and %d delivered", killAt, len(arrived))
						close(killed)
					})
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the burst finished (%d events) before the kill", ok.Load())
	}
	require.GreaterOrEqual(t, ok.Load(), killAt)

	// Restart on the same data: pending deliveries resume.
	srv2 := startServer(t, dir, env...)
	logged := loggedEventIDs(t, srv2, "notify")
	committed.Range(func(k, _ any) bool {
		require.True(t, logged[k.(string)], "event %s was acknowledged but is not in the log", k)
		return true
	})
	require.GreaterOrEqual(t, len(logged), int(killAt))

	deadline := time.After(60 * time.Second)
	for {
		arrivals, bad := recv.snapshot()
		require.Empty(t, bad)
		missing := 0
		for id := range logged {
			if arrivals[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("%d events committed before the kill (%d acknowledged), all delivered", len(logged), ok.Load())
			return
		}
		select {
		case <-recv.changed:
		case <-time.After(2 * time.Second):
		case <-deadline:
			t.Fatalf("%d of %d committed events never reached the receiver", missing, len(logged))
		}
	}
}
