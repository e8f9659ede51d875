package webhook

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
)

func TestDeliverySignedWithStandardWebhooks(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	reg := prometheus.NewRegistry()
	cfg := testConfig()
	cfg.Registerer = reg
	b := setup(t, cfg)

	ep := b.create(t, CreateParams{URL: rc.URL, Description: "main"})
	require.True(t, strings.HasPrefix(ep.Secret, SecretPrefix), "create shows the generated secret")
	require.NoError(t, ValidateSecret(ep.Secret))
	rc.trust(ep.Secret)

	before := time.Now()
	ev := b.publish(t, endCapture("one"))
	got := rc.waitN(t, 1)
	requireVerified(t, got, ep.Secret)
	g := got[0]
	require.Equal(t, ev.ID, g.ID)
	require.Equal(t, ev.Body, g.Body, "the body is the envelope's exact bytes")
	require.Equal(t, "application/json", g.Header.Get("Content-Type"))
	require.Equal(t, "lsdvr-webhooks/1", g.Header.Get("User-Agent"))
	ts, err := strconv.ParseInt(g.Header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	require.InDelta(t, before.Unix(), ts, 2)
	require.Len(t, strings.Fields(g.Header.Get("webhook-signature")), 1, "one signature without a rotation")

	b.waitFor(t, "the success to be recorded", func() bool {
		return testutil.ToFloat64(b.svc.metrics.attempts.WithLabelValues("success")) == 1
	})
	require.Equal(t, 1, b.countStatus(t, ep.ID, StatusSucceeded))
	as := b.attempts(t, ep.ID)
	require.Len(t, as, 1)
	require.Equal(t, http.StatusNoContent, as[0].Code)
	require.Equal(t, ev.ID, as[0].EventID)
	require.Equal(t, event.ActionEndCapture, as[0].Action)
	require.Equal(t, StatusSucceeded, as[0].Status)
	require.Equal(t, 1, as[0].Attempt)
	require.Empty(t, as[0].Error)

	// The secret is shown only at creation.
	require.Empty(t, b.endpoint(t, ep.ID).Secret)
	list, err := b.svc.List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Empty(t, list[0].Secret)

	require.Equal(t, 1, testutil.CollectAndCount(reg, "lsdvr_webhook_delivery_latency_seconds"))
}

func TestRotationSignsWithBothSecretsDuringGrace(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	clock := newTestClock()
	cfg := testConfig()
	cfg.Now = clock.Now
	b := setup(t, cfg)
	ctx := context.Background()

	oldSecret, err := GenerateSecret()
	require.NoError(t, err)
	ep := b.create(t, CreateParams{URL: rc.URL, Secret: oldSecret})
	require.Equal(t, oldSecret, ep.Secret)
	newSecret, err := GenerateSecret()
	require.NoError(t, err)
	rc.trust(oldSecret)
	rc.trust(newSecret)

	grace := int64(3600)
	rotated, err := b.svc.Rotate(ctx, ep.ID, RotateParams{Secret: newSecret, GraceSeconds: &grace})
	require.NoError(t, err)
	require.Equal(t, newSecret, rotated.Secret)
	require.NotNil(t, rotated.PreviousSecretUntil)
	require.Equal(t, clock.Now().Add(time.Hour), *rotated.PreviousSecretUntil)
	require.Empty(t, b.endpoint(t, ep.ID).Secret, "get never shows the secret")

	// During the grace both a receiver still on the old secret and one
	// already on the new verify.
	b.publish(t, endCapture("during"))
	got := rc.waitN(t, 1)
	requireVerified(t, got, oldSecret)
	requireVerified(t, got, newSecret)
	require.Len(t, strings.Fields(got[0].Header.Get("webhook-signature")), 2)

	// After the grace only the new secret signs.
	clock.Advance(time.Hour + time.Second)
	b.publish(t, endCapture("after"))
	got = rc.waitN(t, 2)
	require.NoError(t, got[1].VerifyErr[newSecret])
	require.Error(t, got[1].VerifyErr[oldSecret])
	require.Len(t, strings.Fields(got[1].Header.Get("webhook-signature")), 1)

	// A rotation without grace drops the old secret at once; a generated
	// secret comes back in the response.
	zero := int64(0)
	third, err := b.svc.Rotate(ctx, ep.ID, RotateParams{GraceSeconds: &zero})
	require.NoError(t, err)
	require.NoError(t, ValidateSecret(third.Secret))
	require.Nil(t, third.PreviousSecretUntil)
	rc.trust(third.Secret)
	b.publish(t, endCapture("third"))
	got = rc.waitN(t, 3)
	require.NoError(t, got[2].VerifyErr[third.Secret])
	require.Error(t, got[2].VerifyErr[newSecret])
}

func TestReceiverDownThenUpLosesNothing(t *testing.T) {
	t.Parallel()
	// 503 for the first 7 requests, then 200.
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 7 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("down for maintenance"))
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	b := setup(t, testConfig())
	ep := b.create(t, CreateParams{URL: rc.URL})
	rc.trust(ep.Secret)

	var ids []string
	for i := range 3 {
		ids = append(ids, b.publish(t, endCapture(strconv.Itoa(i))).ID)
	}
	b.waitFor(t, "every delivery to succeed", func() bool { return b.countStatus(t, ep.ID, StatusSucceeded) == 3 })

	got := rc.all()
	requireVerified(t, got, ep.Secret)
	bodies := map[string][]byte{}
	for _, g := range got {
		if prev, ok := bodies[g.ID]; ok {
			require.Equal(t, prev, g.Body, "a retry carries the same body under the same webhook-id")
		}
		bodies[g.ID] = g.Body
	}
	require.Len(t, bodies, 3, "every attempt used one of the three event ids")
	for _, id := range ids {
		require.Contains(t, bodies, id)
	}

	// Every attempt is logged with its code; each delivery's attempts count
	// up from 1 and end with the 200.
	as := b.attempts(t, ep.ID)
	require.Len(t, as, len(got))
	byDelivery := map[int64][]*Attempt{}
	for i := len(as) - 1; i >= 0; i-- { // oldest first
		byDelivery[as[i].DeliveryID] = append(byDelivery[as[i].DeliveryID], as[i])
	}
	require.Len(t, byDelivery, 3)
	codes := map[int]int{}
	for _, list := range byDelivery {
		for i, a := range list {
			require.Equal(t, i+1, a.Attempt)
			codes[a.Code]++
			if i < len(list)-1 {
				require.Equal(t, http.StatusServiceUnavailable, a.Code)
				require.Equal(t, "down for maintenance", a.Response)
				require.Contains(t, a.Error, "503")
			} else {
				require.Equal(t, http.StatusOK, a.Code)
				require.Equal(t, "ok", a.Response)
			}
		}
	}
	require.Equal(t, map[int]int{503: 7, 200: 3}, codes)
	require.Nil(t, b.endpoint(t, ep.ID).FailingSince, "a success clears failing_since")
}

func TestConnectionRefusedThenUp(t *testing.T) {
	t.Parallel()
	// Reserve a port, then close it: connections are refused until the
	// receiver starts on it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	b := setup(t, testConfig())
	ep := b.create(t, CreateParams{URL: "http://" + addr + "/hook"})
	ev := b.publish(t, endCapture("refused"))
	b.waitFor(t, "two refused attempts", func() bool { return len(b.attempts(t, ep.ID)) >= 2 })
	for _, a := range b.attempts(t, ep.ID) {
		require.Equal(t, 0, a.Code, "no response: code 0")
		require.Contains(t, a.Error, "refused")
	}
	require.NotNil(t, b.endpoint(t, ep.ID).FailingSince, "failing_since is set by a failure")

	rc := &receiver{changed: make(chan struct{}, 1)}
	rc.trust(ep.Secret)
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	l2, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	rc.Listener = l2
	rc.Start()
	t.Cleanup(rc.Close)

	got := rc.waitN(t, 1)
	requireVerified(t, got, ep.Secret)
	require.Equal(t, ev.ID, got[0].ID)
	b.waitFor(t, "the delivery to succeed", func() bool { return b.countStatus(t, ep.ID, StatusSucceeded) == 1 })
	require.Nil(t, b.endpoint(t, ep.ID).FailingSince)
}

func TestGoneDisablesEndpointAndAlerts(t *testing.T) {
	t.Parallel()
	gone := newReceiver(t, status(http.StatusGone))
	watcher := newReceiver(t, nil)
	b := setup(t, testConfig())
	ep := b.create(t, CreateParams{URL: gone.URL})
	other := b.create(t, CreateParams{URL: watcher.URL})
	gone.trust(ep.Secret)
	watcher.trust(other.Secret)

	b.publish(t, endCapture("gone"))
	b.waitFor(t, "the endpoint to be disabled", func() bool { return !b.endpoint(t, ep.ID).Enabled })
	got := b.endpoint(t, ep.ID)
	require.Contains(t, got.DisabledReason, "410")
	require.Len(t, gone.all(), 1, "410 is not retried")
	requireVerified(t, gone.all(), ep.Secret)
	ds := b.deliveries(t, ep.ID)
	require.Len(t, ds, 1)
	require.Equal(t, StatusFailed, ds[0].Status)
	require.Nil(t, ds[0].NextAttemptAt)

	alerts := b.alerts(t)
	require.Len(t, alerts, 1)
	require.Equal(t, event.LevelError, alerts[0].Level)
	require.Contains(t, alerts[0].Text, "Webhook "+strconv.FormatInt(ep.ID, 10))
	require.Contains(t, alerts[0].Text, "410 Gone")

	// The healthy endpoint hears the alert; the disabled one gets nothing
	// more, not even the alert.
	w := watcher.waitUntil(t, "the alert", func(g []received) bool {
		for _, r := range g {
			if r.Action == event.ActionAlert {
				return true
			}
		}
		return false
	})
	requireVerified(t, w, other.Secret)
	b.publish(t, endCapture("after"))
	require.Len(t, b.deliveries(t, ep.ID), 1, "no delivery is created for a disabled endpoint")
	b.waitFor(t, "the metric", func() bool { return testutil.ToFloat64(b.svc.metrics.attempts.WithLabelValues("disabled")) == 1 })

	// Re-enabling clears the reason.
	enabled := true
	re, err := b.svc.Update(context.Background(), ep.ID, UpdateParams{Enabled: &enabled})
	require.NoError(t, err)
	require.True(t, re.Enabled)
	require.Empty(t, re.DisabledReason)
	require.Nil(t, re.FailingSince)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	retryAt := time.Now().Add(time.Hour).UTC()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/seconds":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/date":
			w.Header().Set("Retry-After", retryAt.Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
		default: // Retry-After is ignored on other statuses
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	cfg := testConfig()
	cfg.Schedule = []time.Duration{0, 10 * time.Millisecond, 10 * time.Second}
	b := setup(t, cfg)
	seconds := b.create(t, CreateParams{URL: rc.URL + "/seconds"})
	date := b.create(t, CreateParams{URL: rc.URL + "/date"})
	plain := b.create(t, CreateParams{URL: rc.URL + "/plain"})
	rc.trust(seconds.Secret)
	rc.trust(date.Secret)
	rc.trust(plain.Secret)
	b.publish(t, endCapture("retry-after"))

	first := func(id int64) *Delivery {
		ds := b.deliveries(t, id)
		require.Len(t, ds, 1)
		return ds[0]
	}
	b.waitFor(t, "a first attempt to each endpoint", func() bool {
		return first(seconds.ID).Attempts == 1 && first(date.ID).Attempts == 1 && first(plain.ID).Attempts >= 2
	})
	delay := func(id int64) time.Duration {
		as := b.attempts(t, id)
		require.Len(t, as, 1)
		d := first(id)
		require.Equal(t, StatusPending, d.Status)
		require.NotNil(t, d.NextAttemptAt)
		return d.NextAttemptAt.Sub(as[0].AttemptedAt)
	}
	require.Equal(t, 3*time.Second, delay(seconds.ID), "Retry-After in seconds beats the 10 ms step")
	require.Equal(t, 10*time.Second, delay(date.ID), "an HTTP-date an hour away is capped at the longest step")
	as := b.attempts(t, plain.ID)
	require.GreaterOrEqual(t, len(as), 2)
	require.Less(t, as[len(as)-2].AttemptedAt.Sub(as[len(as)-1].AttemptedAt), 3*time.Second,
		"Retry-After on a 500 is ignored: the retry came on the 10 ms step")
	secrets := map[string]string{"/seconds": seconds.Secret, "/date": date.Secret, "/plain": plain.Secret}
	for _, g := range rc.all() {
		requireVerified(t, []received{g}, secrets[g.Path])
	}
}

func TestDisableAfterFailingPeriod(t *testing.T) {
	t.Parallel()
	failing := newReceiver(t, status(http.StatusInternalServerError))
	idle := newReceiver(t, status(http.StatusInternalServerError))
	clock := newTestClock()
	cfg := testConfig()
	cfg.Now = clock.Now
	cfg.Schedule = []time.Duration{0} // one attempt per delivery
	cfg.DisableAfter = 48 * time.Hour
	// The retry loop runs once, at Start: this test calls CheckFailing
	// itself.
	cfg.PollInterval = time.Hour
	b := setup(t, cfg)
	ep := b.create(t, CreateParams{URL: failing.URL, Actions: []event.Action{event.ActionEndCapture}})
	quiet := b.create(t, CreateParams{URL: idle.URL, Actions: []event.Action{event.ActionStartCapture}})
	failing.trust(ep.Secret)
	idle.trust(quiet.Secret)

	start := clock.Now()
	b.publish(t, endCapture("first"))
	b.publish(t, event.StartCapture{VOD: endCapture("x").VOD})
	b.waitFor(t, "failing_since to be set on both", func() bool {
		return b.endpoint(t, ep.ID).FailingSince != nil && b.endpoint(t, quiet.ID).FailingSince != nil
	})
	require.Equal(t, start, *b.endpoint(t, ep.ID).FailingSince)
	require.Equal(t, StatusFailed, b.deliveries(t, ep.ID)[0].Status, "one-step schedule: failed at once")

	// Still failing a day later: enabled.
	clock.Advance(24 * time.Hour)
	b.publish(t, endCapture("second"))
	b.waitFor(t, "the second failure", func() bool { return b.countStatus(t, ep.ID, StatusFailed) == 2 })
	require.True(t, b.endpoint(t, ep.ID).Enabled)
	require.Equal(t, start, *b.endpoint(t, ep.ID).FailingSince, "failing_since keeps the start of the streak")

	// Past DisableAfter, the next failure disables it.
	clock.Advance(24*time.Hour + time.Minute)
	b.publish(t, endCapture("third"))
	b.waitFor(t, "the endpoint to be disabled", func() bool { return !b.endpoint(t, ep.ID).Enabled })
	require.Contains(t, b.endpoint(t, ep.ID).DisabledReason, "every delivery has failed since "+start.Format(time.RFC3339))
	require.Len(t, failing.all(), 3)
	requireVerified(t, failing.all(), ep.Secret)

	// The quiet endpoint saw no attempt since; CheckFailing disables it.
	require.True(t, b.endpoint(t, quiet.ID).Enabled)
	require.NoError(t, b.svc.CheckFailing(context.Background()))
	require.False(t, b.endpoint(t, quiet.ID).Enabled)

	alerts := b.alerts(t)
	require.Len(t, alerts, 2)
	for _, a := range alerts {
		require.Equal(t, event.LevelError, a.Level)
		require.Contains(t, a.Text, "every delivery has failed")
	}
	require.Contains(t, alerts[0].Text, "Webhook "+strconv.FormatInt(ep.ID, 10))
	require.Contains(t, alerts[1].Text, "Webhook "+strconv.FormatInt(quiet.ID, 10))
}

func TestSlowEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	fast := newReceiver(t, nil)
	cfg := testConfig()
	cfg.Workers = 4
	cfg.PerEndpoint = 2
	cfg.Timeout = 3 * time.Second
	b := setup(t, cfg)
	t.Cleanup(func() { close(release) }) // runs before the Service stops
	slowEp := b.create(t, CreateParams{URL: slow.URL})
	fastEp := b.create(t, CreateParams{URL: fast.URL})
	fast.trust(fastEp.Secret)
	slow.trust(slowEp.Secret)

	start := time.Now()
	const n = 20
	for i := range n {
		b.publish(t, endCapture(strconv.Itoa(i)))
	}
	got := fast.waitN(t, n)
	elapsed := time.Since(start)
	requireVerified(t, got, fastEp.Secret)
	require.Less(t, elapsed, cfg.Timeout, "the fast endpoint never waited for the slow one's timeout")
	slow.waitN(t, cfg.PerEndpoint)
	held := slow.all()
	require.Len(t, held, cfg.PerEndpoint, "the slow endpoint holds at most PerEndpoint workers")
	requireVerified(t, held, slowEp.Secret)
}

func TestRestartResumesPendingDeliveries(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	cfg := testConfig()
	// Retries far enough apart that nothing is retried before the restart.
	cfg.Schedule = []time.Duration{0, 200 * time.Millisecond, 200 * time.Millisecond}
	b := setup(t, cfg)
	ep := b.create(t, CreateParams{URL: rc.URL})
	rc.trust(ep.Secret)

	var ids []string
	for i := range 3 {
		ids = append(ids, b.publish(t, endCapture(strconv.Itoa(i))).ID)
	}
	b.waitFor(t, "a failed first attempt of each", func() bool { return len(b.attempts(t, ep.ID)) >= 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.svc.Stop(ctx))
	require.NoError(t, b.svc.Stop(ctx), "Stop twice is fine")

	// Published while no Service runs: recorded, not sent.
	ids = append(ids, b.publish(t, endCapture("while-stopped")).ID)
	require.Equal(t, 4, b.countStatus(t, ep.ID, StatusPending))

	healthy.Store(true)
	b.startService(t)
	b.waitFor(t, "every delivery to succeed", func() bool { return b.countStatus(t, ep.ID, StatusSucceeded) == 4 })
	got := rc.all()
	requireVerified(t, got, ep.Secret)
	seen := map[string]bool{}
	for _, g := range got {
		seen[g.ID] = true
	}
	for _, id := range ids {
		require.True(t, seen[id], "event %s reached the receiver", id)
	}
	require.Len(t, seen, 4)
}

func TestStopLetsInFlightAttemptsFinish(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusAccepted)
	})
	b := setup(t, testConfig())
	ep := b.create(t, CreateParams{URL: rc.URL})
	rc.trust(ep.Secret)
	b.publish(t, endCapture("in-flight"))
	select {
	case <-entered:
	case <-time.After(waitTimeout):
		t.Fatal("the attempt never arrived")
	}

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		stopped <- b.svc.Stop(ctx)
	}()
	close(release)
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(waitTimeout):
		t.Fatal("Stop did not return")
	}
	// Stop flushed the result before returning.
	as := b.attempts(t, ep.ID)
	require.Len(t, as, 1)
	require.Equal(t, http.StatusAccepted, as[0].Code)
	require.Equal(t, StatusSucceeded, as[0].Status)
	requireVerified(t, rc.all(), ep.Secret)
}

func TestStopCutsShortAtDeadline(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
	})
	b := setup(t, testConfig())
	ep := b.create(t, CreateParams{URL: rc.URL})
	b.publish(t, endCapture("hang"))
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := b.svc.Stop(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, b.attempts(t, ep.ID), "an attempt cut short by Stop is not logged")
	require.Equal(t, 1, b.countStatus(t, ep.ID, StatusPending), "it stays pending for the next start")
}

func TestFilters(t *testing.T) {
	t.Parallel()
	def := newReceiver(t, nil)
	explicit := newReceiver(t, nil)
	star := newReceiver(t, nil)
	b := setup(t, testConfig())
	defEp := b.create(t, CreateParams{URL: def.URL})
	explicitEp := b.create(t, CreateParams{URL: explicit.URL, Actions: []event.Action{event.ActionEndCapture, event.ActionLog}})
	starEp := b.create(t, CreateParams{URL: star.URL, Actions: []event.Action{AllActions}})
	def.trust(defEp.Secret)
	explicit.trust(explicitEp.Secret)
	star.trust(starEp.Secret)

	b.publish(t, event.Log{Level: "ERROR", Message: "boom", Time: time.Now()})
	b.publish(t, event.JobProgress{JobName: "convert", Progress: 0.5})
	b.publish(t, endCapture("f"))
	b.publish(t, event.Notify{Title: "live", Body: "chan is live", Category: "live"})

	actions := func(id int64) []event.Action {
		var out []event.Action
		for _, d := range b.deliveries(t, id) {
			out = append(out, d.Action)
		}
		return out
	}
	// Deliveries are written in the publishing transaction, so they are
	// all there already.
	require.ElementsMatch(t, []event.Action{event.ActionEndCapture, event.ActionNotify}, actions(defEp.ID))
	require.ElementsMatch(t, []event.Action{event.ActionLog, event.ActionEndCapture}, actions(explicitEp.ID))
	require.ElementsMatch(t, []event.Action{event.ActionLog, event.ActionJobProgress, event.ActionEndCapture, event.ActionNotify}, actions(starEp.ID))

	received := func(rc *receiver, n int, secret string) []event.Action {
		got := rc.waitN(t, n)
		requireVerified(t, got, secret)
		var out []event.Action
		for _, g := range got {
			out = append(out, g.Action)
		}
		return out
	}
	require.ElementsMatch(t, []event.Action{event.ActionEndCapture, event.ActionNotify}, received(def, 2, defEp.Secret))
	require.ElementsMatch(t, []event.Action{event.ActionLog, event.ActionEndCapture}, received(explicit, 2, explicitEp.Secret))
	require.ElementsMatch(t, []event.Action{event.ActionLog, event.ActionJobProgress, event.ActionEndCapture, event.ActionNotify}, received(star, 4, starEp.Secret))

	// Changing the filter takes effect for the next event.
	only := []event.Action{event.ActionNotify}
	_, err := b.svc.Update(context.Background(), defEp.ID, UpdateParams{Actions: &only})
	require.NoError(t, err)
	b.publish(t, endCapture("g"))
	require.Len(t, actions(defEp.ID), 2)
}

func TestReplay(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := setup(t, testConfig())
	ctx := context.Background()
	ep := b.create(t, CreateParams{URL: rc.URL})
	rc.trust(ep.Secret)
	ev := b.publish(t, endCapture("replay"))
	b.waitFor(t, "the delivery", func() bool { return b.countStatus(t, ep.ID, StatusSucceeded) == 1 })
	orig := b.deliveries(t, ep.ID)[0]

	re, err := b.svc.Replay(ctx, orig.ID)
	require.NoError(t, err)
	require.NotEqual(t, orig.ID, re.ID)
	require.Equal(t, orig.ID, *re.ReplayOf)
	require.Equal(t, ev.ID, re.EventID)
	require.Equal(t, 0, re.Attempts, "a replay's attempts start over")

	got := rc.waitN(t, 2)
	requireVerified(t, got, ep.Secret)
	require.Equal(t, ev.ID, got[1].ID, "a replay keeps the webhook-id")
	require.Equal(t, got[0].Body, got[1].Body)
	b.waitFor(t, "the replay to succeed", func() bool { return b.countStatus(t, ep.ID, StatusSucceeded) == 2 })

	_, err = b.svc.Replay(ctx, 999)
	require.ErrorContains(t, err, "delivery 999 not found")
}

func TestReplayFailed(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	cfg := testConfig()
	cfg.Schedule = []time.Duration{0, time.Millisecond}
	b := setup(t, cfg)
	ctx := context.Background()
	ep := b.create(t, CreateParams{URL: rc.URL})
	rc.trust(ep.Secret)

	before := time.Now().Add(-time.Second)
	var ids []string
	for i := range 3 {
		ids = append(ids, b.publish(t, endCapture(strconv.Itoa(i))).ID)
	}
	b.waitFor(t, "every delivery to fail", func() bool { return b.countStatus(t, ep.ID, StatusFailed) == 3 })
	require.Len(t, rc.all(), 6, "two attempts each")

	n, err := b.svc.ReplayFailed(ctx, ep.ID, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "nothing failed after since")

	healthy.Store(true)
	n, err = b.svc.ReplayFailed(ctx, ep.ID, before)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	got := rc.waitN(t, 9)
	requireVerified(t, got, ep.Secret)
	var replayed []string
	for _, g := range got[6:] {
		replayed = append(replayed, g.ID)
	}
	require.ElementsMatch(t, ids, replayed)
	b.waitFor(t, "the replays to succeed", func() bool { return b.countStatus(t, ep.ID, StatusSucceeded) == 3 })

	_, err = b.svc.ReplayFailed(ctx, 999, before)
	require.ErrorContains(t, err, "webhook 999 not found")
}

func TestSendTestReachesOnlyThatEndpoint(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, nil)
	bystander := newReceiver(t, nil)
	b := setup(t, testConfig())
	ctx := context.Background()
	// The target's filter excludes notify; a test send goes through anyway.
	ep := b.create(t, CreateParams{URL: target.URL, Actions: []event.Action{event.ActionEndCapture}})
	other := b.create(t, CreateParams{URL: bystander.URL})
	target.trust(ep.Secret)

	ev, err := b.svc.SendTest(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, event.ActionNotify, ev.Action)
	require.Contains(t, string(ev.Body), `"category":"test"`)
	require.Contains(t, string(ev.Body), `"title":"Test event"`)
	require.Contains(t, string(ev.Body), target.URL)

	got := target.waitN(t, 1)
	requireVerified(t, got, ep.Secret)
	require.Equal(t, ev.ID, got[0].ID)
	require.Empty(t, b.deliveries(t, other.ID), "the other endpoint gets no delivery")

	_, err = b.svc.SendTest(ctx, 999)
	require.ErrorContains(t, err, "webhook 999 not found")
	disabled := false
	_, err = b.svc.Update(ctx, ep.ID, UpdateParams{Enabled: &disabled})
	require.NoError(t, err)
	_, err = b.svc.SendTest(ctx, ep.ID)
	require.ErrorContains(t, err, "disabled")
}

func TestDeleteEndpointStopsItsDeliveries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusServiceUnavailable))
	cfg := testConfig()
	cfg.Schedule = []time.Duration{0, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}
	b := setup(t, cfg)
	ctx := context.Background()
	ep := b.create(t, CreateParams{URL: rc.URL})
	b.publish(t, endCapture("doomed"))
	b.waitFor(t, "a first attempt", func() bool { return len(b.attempts(t, ep.ID)) >= 1 })

	require.NoError(t, b.svc.Delete(ctx, ep.ID))
	_, err := b.svc.Get(ctx, ep.ID)
	require.ErrorContains(t, err, "not found")
	var rows int
	require.NoError(t, b.db.Read.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries`).Scan(&rows))
	require.Zero(t, rows, "deliveries go with their endpoint")
	require.NoError(t, b.db.Read.QueryRow(`SELECT COUNT(*) FROM webhook_attempts`).Scan(&rows))
	require.Zero(t, rows, "attempts go with their deliveries")
	require.ErrorContains(t, b.svc.Delete(ctx, ep.ID), "not found")
}

func TestPruneAttempts(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	clock := newTestClock()
	cfg := testConfig()
	cfg.Now = clock.Now
	b := setup(t, cfg)
	ep := b.create(t, CreateParams{URL: rc.URL})
	b.publish(t, endCapture("old"))
	b.waitFor(t, "the first attempt", func() bool { return len(b.attempts(t, ep.ID)) == 1 })
	clock.Advance(time.Hour)
	b.publish(t, endCapture("new"))
	b.waitFor(t, "the second attempt", func() bool { return len(b.attempts(t, ep.ID)) == 2 })

	n, err := b.svc.PruneAttempts(context.Background(), clock.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	as := b.attempts(t, ep.ID)
	require.Len(t, as, 1)
	require.Equal(t, clock.Now(), as[0].AttemptedAt)
}
