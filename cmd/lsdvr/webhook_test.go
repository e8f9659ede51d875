package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/webhook"
)

// webhookCLIBundle is the testBundle of the webhook subcommands: a started
// webhook service behind the HTTP API, and a receiver that verifies every
// delivery with the reference library.
type webhookCLIBundle struct {
	cliServer
	svc *webhook.Service

	recvURL  string
	mu       sync.Mutex
	secret   string
	got      []string // webhook-ids of verified deliveries
	bad      int      // deliveries that did not verify
	arrivals chan struct{}
}

func setupWebhookCLI(t *testing.T) *webhookCLIBundle {
	t.Helper()
	ctx := context.Background()
	b := &webhookCLIBundle{arrivals: make(chan struct{}, 1)}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		wh, err := standardwebhooks.NewWebhook(b.secret)
		if err == nil && wh.Verify(body, r.Header) == nil {
			b.got = append(b.got, r.Header.Get("webhook-id"))
		} else {
			b.bad++
		}
		b.mu.Unlock()
		select {
		case b.arrivals <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	b.recvURL = recv.URL

	db := openDB(t)
	svc, err := webhook.New(webhook.Config{PollInterval: 10 * time.Millisecond}, db, event.NewBus(db, nil), quietLogger())
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, svc.Stop(ctx))
	})
	b.svc, b.url = svc, serveAPI(t, api.NewWebhooks(svc))
	return b
}

// waitDeliveries waits until n verified deliveries arrived.
func (b *webhookCLIBundle) waitDeliveries(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		got, bad := append([]string(nil), b.got...), b.bad
		b.mu.Unlock()
		require.Zero(t, bad, "every delivery verifies")
		if len(got) >= n {
			return got
		}
		select {
		case <-b.arrivals:
		case <-deadline:
			t.Fatalf("timed out waiting for %d deliveries; got %d", n, len(got))
		}
	}
}

func TestWebhookCommands(t *testing.T) {
	t.Parallel()
	b := setupWebhookCLI(t)
	ctx := context.Background()

	out, err := b.run(t, "webhook", "list")
	require.NoError(t, err)
	require.Equal(t, "no webhooks; add one with: lsdvr webhook add URL\n", out)

	out, err = b.run(t, "webhook", "add", b.recvURL, "--actions", "notify,end_capture", "--description", "home server")
	require.NoError(t, err)
	secret := regexp.MustCompile(`secret: (whsec_\S+)`).FindStringSubmatch(out)
	require.NotNil(t, secret, out)
	require.Contains(t, out, "added webhook 1 for "+b.recvURL+" (actions: end_capture,notify)")
	b.mu.Lock()
	b.secret = secret[1]
	b.mu.Unlock()

	out, err = b.run(t, "webhook", "list")
	require.NoError(t, err)
	require.Contains(t, out, "ID  URL")
	require.Contains(t, out, "end_capture,notify  enabled  home server")
	require.NotContains(t, out, secret[1])

	out, err = b.run(t, "webhook", "list", "--json")
	require.NoError(t, err)
	var eps []webhook.Endpoint
	require.NoError(t, json.Unmarshal([]byte(out), &eps))
	require.Len(t, eps, 1)
	require.Empty(t, eps[0].Secret)

	out, err = b.run(t, "webhook", "test", "1")
	require.NoError(t, err)
	evID := regexp.MustCompile(`sent test event (evt_\S+)`).FindStringSubmatch(out)
	require.NotNil(t, evID, out)
	got := b.waitDeliveries(t, 1)
	require.Equal(t, evID[1], got[0])

	// The attempt log, once the attempt is recorded.
	var attempts []*webhook.Attempt
	require.Eventually(t, func() bool {
		attempts, err = b.svc.ListAttempts(ctx, 1, webhook.AttemptListParams{})
		return err == nil && len(attempts) == 1
	}, 10*time.Second, 5*time.Millisecond)
	out, err = b.run(t, "webhook", "deliveries", "1")
	require.NoError(t, err)
	require.Contains(t, out, "ATTEMPTED")
	require.Regexp(t, evID[1]+`\s+notify\s+succeeded\s+1\s+204\s+\d+ms\s+-`, out)
	out, err = b.run(t, "webhook", "deliveries", "1", "--json")
	require.NoError(t, err)
	require.Contains(t, out, `"event_id": "`+evID[1]+`"`)

	out, err = b.run(t, "webhook", "replay", "1")
	require.NoError(t, err)
	require.Contains(t, out, "replaying event "+evID[1]+" to webhook 1 as delivery 2")
	got = b.waitDeliveries(t, 2)
	require.Equal(t, evID[1], got[1], "a replay keeps the webhook-id")

	out, err = b.run(t, "webhook", "replay", "--endpoint", "1", "--since", "24h")
	require.NoError(t, err)
	require.Equal(t, "replaying 0 failed deliveries to webhook 1\n", out)

	out, err = b.run(t, "webhook", "rotate", "1", "--grace", "1h")
	require.NoError(t, err)
	newSecret := regexp.MustCompile(`new secret for webhook 1: (whsec_\S+)`).FindStringSubmatch(out)
	require.NotNil(t, newSecret, out)
	require.Contains(t, out, "the old secret also signs until")
	// The receiver still holds the old secret: deliveries keep verifying.
	_, err = b.run(t, "webhook", "test", "1")
	require.NoError(t, err)
	b.waitDeliveries(t, 3)

	out, err = b.run(t, "webhook", "rm", "1")
	require.NoError(t, err)
	require.Equal(t, "removed webhook 1\n", out)
	_, err = b.run(t, "webhook", "rm", "1")
	require.ErrorContains(t, err, "webhook 1 not found")
}

func TestWebhookCommandErrors(t *testing.T) {
	t.Parallel()
	b := setupWebhookCLI(t)
	_, err := b.run(t, "webhook", "add", "ftp://example.com")
	require.ErrorContains(t, err, "url must use http or https")
	_, err = b.run(t, "webhook", "add", "http://example.com", "--actions", "bogus")
	require.ErrorContains(t, err, `unknown action "bogus"`)
	_, err = b.run(t, "webhook", "rm", "x")
	require.ErrorContains(t, err, `webhook id must be a positive integer, got "x"`)
	_, err = b.run(t, "webhook", "replay")
	require.ErrorContains(t, err, "give either a DELIVERY_ID")
	_, err = b.run(t, "webhook", "replay", "--endpoint", "1", "--since", "last week")
	require.ErrorContains(t, err, "--since must be a duration")
	_, err = b.run(t, "webhook", "replay", "7")
	require.ErrorContains(t, err, "delivery 7 not found")
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC)
	got, err := parseSince("90m", now)
	require.NoError(t, err)
	require.Equal(t, now.Add(-90*time.Minute), got)
	got, err = parseSince("2026-12-01T00:00:00Z", now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), got)
	_, err = parseSince("-1h", now)
	require.ErrorContains(t, err, "negative")
	require.True(t, strings.HasSuffix(webhookCell("a very long description indeed", 10), "…"))
}
