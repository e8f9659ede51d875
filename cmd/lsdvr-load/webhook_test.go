package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// publishedCount returns N of the report's "published N events (0 errors)".
func publishedCount(t *testing.T, report string) int {
	t.Helper()
	m := regexp.MustCompile(`published (\d+) events \(0 errors\) in \S+: [\d.]+/s`).FindStringSubmatch(report)
	require.NotNil(t, m, report)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

func TestLoadWebhookPaced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var out strings.Builder
	err := run(context.Background(), []string{"webhook", "--server", b.url, "--endpoints", "3", "--rate", "100",
		"--duration", "400ms", "--grace", "5s", "--pid", strconv.Itoa(os.Getpid())}, &out)
	report := out.String()
	require.NoError(t, err, report)

	require.Contains(t, report, "registered 3 endpoints; publishing 100 events/s for 400ms")
	n := publishedCount(t, report)
	// 400 ms at 100/s is 40 sends; allow for a slow start on a busy machine.
	require.GreaterOrEqual(t, n, 20, report)
	require.LessOrEqual(t, n, 40, report)
	require.Regexp(t, `\(target 100/s, max lag behind schedule \S+\)`, report)
	require.Contains(t, report, "deliveries: "+strconv.Itoa(3*n)+"/"+strconv.Itoa(3*n)+", ", report)
	for i := 1; i <= 3; i++ {
		require.Regexp(t, `endpoint `+strconv.Itoa(i)+`: `+strconv.Itoa(n)+` received, [\d.]+/s, 0 undelivered, 0 duplicates, 0 bad signatures; latency p50`, report)
	}
	require.Regexp(t, `latency \(envelope timestamp to receipt\): p50 \S+  p99 \S+  max \S+  \(n=`+strconv.Itoa(3*n)+`\)`, report)
	require.Contains(t, report, "signature failures: 0\n")
	require.Contains(t, report, "undelivered after 5s grace: 0\n")
	require.Contains(t, report, "attempt log: "+strconv.Itoa(3*n)+"/"+strconv.Itoa(3*n)+" deliveries recorded as succeeded")
	require.Regexp(t, `server memory: rss \d+ kB, peak \d+ kB`, report)
	require.Contains(t, report, "deleted 3 endpoints")

	left, err := b.hooks.List(context.Background())
	require.NoError(t, err)
	require.Empty(t, left, "the load program must delete its endpoints")
}

func TestLoadWebhookMaxRate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var out strings.Builder
	err := run(context.Background(), []string{"webhook", "--server", b.url, "--endpoints", "1", "--rate", "0",
		"--duration", "300ms", "--grace", "5s", "--publishers", "2", "--check-log=false"}, &out)
	report := out.String()
	require.NoError(t, err, report)

	require.Contains(t, report, "publishing as fast as possible for 300ms from 2 goroutines")
	n := publishedCount(t, report)
	require.Greater(t, n, 5, report)
	require.NotContains(t, report, "target")
	require.Contains(t, report, "deliveries: "+strconv.Itoa(n)+"/"+strconv.Itoa(n)+", ", report)
	require.Contains(t, report, "undelivered after 5s grace: 0\n")
	require.NotContains(t, report, "attempt log")
	require.Contains(t, report, "deleted 1 endpoints")
}

func TestHookReceiverVerifiesSignatures(t *testing.T) {
	t.Parallel()
	own, other := newSecret(), newSecret()
	require.NotEqual(t, own, other)
	recv, err := newHookReceiver([]string{own})
	require.NoError(t, err)

	body := []byte(`{"id":"evt_1","seq":7,"action":"notify","timestamp":"` +
		time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00") + `","data":{"title":"t"}}`)
	deliver := func(path, secret string) int {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		ts := time.Now()
		sig, err := wh.Sign("evt_1", ts, body)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		req.Header.Set("webhook-id", "evt_1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		w := httptest.NewRecorder()
		recv.ServeHTTP(w, req)
		return w.Code
	}

	require.Equal(t, http.StatusUnauthorized, deliver(hookPath(0), other), "a foreign signature must be refused")
	require.Equal(t, 0, recv.received())
	require.Equal(t, http.StatusNoContent, deliver(hookPath(0), own))
	require.Equal(t, 1, recv.received())
	require.Equal(t, http.StatusNotFound, deliver(hookPath(1), own))
	require.Equal(t, http.StatusNotFound, deliver("/other", own))

	ep := recv.endpoints[0]
	require.Equal(t, 1, ep.badSigs)
	require.Contains(t, ep.firstBad, "no matching signature")
	require.Len(t, ep.samples, 1)
	require.Equal(t, "evt_1", ep.samples[0].id)
	require.GreaterOrEqual(t, ep.samples[0].latency, time.Duration(0))
	require.Less(t, ep.samples[0].latency, time.Minute)
	require.Equal(t, 2, recv.stray)
}

func TestParseWebhookRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"webhook", "--endpoints", "0"},
		{"webhook", "--publishers", "0"},
		{"webhook", "--duration", "0s"},
	} {
		require.ErrorContains(t, run(context.Background(), args, io.Discard), "must be positive", args)
	}
	require.ErrorContains(t, run(context.Background(), []string{"webhook", "--rate", "-1"}, io.Discard), "must not be negative")
}
