package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/webhook"
)

// webhooksBundle is the testBundle of the webhooks resource: a started
// webhook service on a fresh database behind the API, and a receiver.
type webhooksBundle struct {
	svc    *webhook.Service
	url    string
	client *client.Client
	recv   *hookReceiver
}

func setupWebhooks(t *testing.T) *webhooksBundle {
	t.Helper()
	ctx := context.Background()
	db := openDB(t)
	recv := newHookReceiver(t)
	svc, err := webhook.New(webhook.Config{PollInterval: 10 * time.Millisecond}, db, event.NewBus(db, nil), quietLogger())
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, svc.Stop(ctx))
	})
	url := serve(t, api.NewWebhooks(svc))
	c, err := client.New(url, "")
	require.NoError(t, err)
	return &webhooksBundle{svc: svc, url: url, client: c, recv: recv}
}

// do is doJSON with the body as a string, for matching substrings.
func (b *webhooksBundle) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	status, raw := doJSON(t, b.url, method, path, body)
	return status, string(raw)
}

// hookReceiver records deliveries and verifies each with the reference
// library against every secret it was given.
type hookReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	secrets []string
	got     []hookRequest
	changed chan struct{}
}

type hookRequest struct {
	id       string
	body     []byte
	verified map[string]bool
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{changed: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		hr := hookRequest{id: req.Header.Get("webhook-id"), body: body, verified: map[string]bool{}}
		r.mu.Lock()
		for _, s := range r.secrets {
			wh, err := standardwebhooks.NewWebhook(s)
			hr.verified[s] = err == nil && wh.Verify(body, req.Header) == nil
		}
		r.got = append(r.got, hr)
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) trust(secret string) {
	r.mu.Lock()
	r.secrets = append(r.secrets, secret)
	r.mu.Unlock()
}

func (r *hookReceiver) waitN(t *testing.T, n int) []hookRequest {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]hookRequest(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %d deliveries; got %d", n, len(got))
		}
	}
}

func TestWebhooksOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	ctx := context.Background()

	// Create: 201 with the secret.
	status, body := b.do(t, http.MethodPost, "/api/v1/webhooks",
		`{"url":"`+b.recv.URL+`","actions":["notify","end_capture"],"description":"home"}`)
	require.Equal(t, http.StatusCreated, status, body)
	var created webhook.Endpoint
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	require.True(t, strings.HasPrefix(created.Secret, "whsec_"))
	require.Equal(t, []event.Action{event.ActionEndCapture, event.ActionNotify}, created.Actions)
	require.True(t, created.Enabled)
	b.recv.trust(created.Secret)

	// GET never shows the secret.
	status, body = b.do(t, http.MethodGet, "/api/v1/webhooks/"+itoa(created.ID), "")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, "secret\"")
	require.NotContains(t, body, created.Secret)
	status, body = b.do(t, http.MethodGet, "/api/v1/webhooks", "")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, created.Secret)
	list, err := b.client.ListWebhooks(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "home", list[0].Description)

	// Test send: 202, delivered and verified.
	status, body = b.do(t, http.MethodPost, "/api/v1/webhooks/"+itoa(created.ID)+"/test", "")
	require.Equal(t, http.StatusAccepted, status, body)
	var sent api.WebhookTestResponse
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	require.True(t, strings.HasPrefix(sent.EventID, "evt_"))
	require.Positive(t, sent.Seq)
	got := b.recv.waitN(t, 1)
	require.Equal(t, sent.EventID, got[0].id)
	require.True(t, got[0].verified[created.Secret])

	// The attempt log lists it, newest first.
	var attempts []*webhook.Attempt
	require.Eventually(t, func() bool {
		attempts, err = b.client.WebhookAttempts(ctx, created.ID, 10, 0)
		return err == nil && len(attempts) == 1
	}, 10*time.Second, 5*time.Millisecond)
	a := attempts[0]
	require.Equal(t, sent.EventID, a.EventID)
	require.Equal(t, event.ActionNotify, a.Action)
	require.Equal(t, http.StatusNoContent, a.Code)
	require.Equal(t, webhook.StatusSucceeded, a.Status)
	require.Equal(t, 1, a.Attempt)
	status, body = b.do(t, http.MethodGet, "/api/v1/webhooks/"+itoa(created.ID)+"/deliveries?limit=5", "")
	require.Equal(t, http.StatusOK, status)
	for _, key := range []string{"delivery_id", "event_id", "action", "status", "attempt", "code", "latency_ms", "attempted_at"} {
		require.Contains(t, body, `"`+key+`"`)
	}

	// Replay one delivery: 202, same webhook-id again.
	status, body = b.do(t, http.MethodPost, "/api/v1/deliveries/"+itoa(a.DeliveryID)+"/replay", "")
	require.Equal(t, http.StatusAccepted, status, body)
	got = b.recv.waitN(t, 2)
	require.Equal(t, sent.EventID, got[1].id)
	require.True(t, got[1].verified[created.Secret])

	// Replay failed ones: none failed.
	n, err := b.client.ReplayFailedWebhooks(ctx, created.ID, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)

	// Rotate with a grace: both secrets verify the next delivery.
	status, body = b.do(t, http.MethodPost, "/api/v1/webhooks/"+itoa(created.ID)+"/rotate", `{"grace_seconds":600}`)
	require.Equal(t, http.StatusOK, status, body)
	var rotated webhook.Endpoint
	require.NoError(t, json.Unmarshal([]byte(body), &rotated))
	require.NotEqual(t, created.Secret, rotated.Secret)
	require.NotNil(t, rotated.PreviousSecretUntil)
	b.recv.trust(rotated.Secret)
	_, err = b.client.TestWebhook(ctx, created.ID)
	require.NoError(t, err)
	got = b.recv.waitN(t, 3)
	require.True(t, got[2].verified[created.Secret])
	require.True(t, got[2].verified[rotated.Secret])
	// Rotating with no body generates a secret too.
	status, body = b.do(t, http.MethodPost, "/api/v1/webhooks/"+itoa(created.ID)+"/rotate", "")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"secret":"whsec_`)

	// PATCH: disable, then re-enable.
	off := false
	ep, err := b.client.UpdateWebhook(ctx, created.ID, webhook.UpdateParams{Enabled: &off})
	require.NoError(t, err)
	require.False(t, ep.Enabled)
	require.NotEmpty(t, ep.DisabledReason)
	status, body = b.do(t, http.MethodPost, "/api/v1/webhooks/"+itoa(created.ID)+"/test", "")
	require.Equal(t, http.StatusConflict, status, body)
	status, body = b.do(t, http.MethodPatch, "/api/v1/webhooks/"+itoa(created.ID), `{"enabled":true,"description":"office","actions":["*"]}`)
	require.Equal(t, http.StatusOK, status, body)
	var patched webhook.Endpoint
	require.NoError(t, json.Unmarshal([]byte(body), &patched))
	require.True(t, patched.Enabled)
	require.Empty(t, patched.DisabledReason)
	require.Equal(t, "office", patched.Description)
	require.Equal(t, []event.Action{"*"}, patched.Actions)

	// DELETE: 204, then 404.
	status, _ = b.do(t, http.MethodDelete, "/api/v1/webhooks/"+itoa(created.ID), "")
	require.Equal(t, http.StatusNoContent, status)
	status, body = b.do(t, http.MethodGet, "/api/v1/webhooks/"+itoa(created.ID), "")
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, body, "not found")
	err = b.client.DeleteWebhook(ctx, created.ID)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.Status)
}

func TestWebhooksRejectBadInput(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)

	for _, tc := range []struct {
		name, body, message string
	}{
		{"malformed JSON", `{"url":`, "body is not valid JSON"},
		{"unknown field", `{"url":"http://example.com","secrets":"x"}`, `unknown field "secrets"`},
		{"missing url", `{}`, "url is required"},
		{"non-http URL", `{"url":"ftp://example.com/x"}`, "url must use http or https"},
		{"unparsable URL", `{"url":"http://exa mple.com/"}`, "is not a valid URL"},
		{"no host", `{"url":"http:///path"}`, "url must have a host"},
		{"secret prefix", `{"url":"http://example.com","secret":"abc"}`, `secret must start with "whsec_"`},
		{"short secret", `{"url":"http://example.com","secret":"whsec_c2hvcnQ="}`, "at least 24 bytes"},
		{"unknown action", `{"url":"http://example.com","actions":["end_capture","stream_online"]}`, `unknown action "stream_online"`},
		{"wrong type", `{"url":"http://example.com","enabled":"yes"}`, `field "enabled" must be bool`},
	} {
		status, body := b.do(t, http.MethodPost, "/api/v1/webhooks", tc.body)
		require.Equal(t, http.StatusBadRequest, status, tc.name)
		e := errorOf(t, body)
		require.Equal(t, "invalid", e.Error.Code, tc.name)
		require.Contains(t, e.Error.Message, tc.message, tc.name)
	}
	status, body := b.do(t, http.MethodGet, "/api/v1/webhooks", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"items":[]}`, body, "nothing was written")

	ep, err := b.client.CreateWebhook(context.Background(), webhook.CreateParams{URL: "http://127.0.0.1:9/hook"})
	require.NoError(t, err)
	id := itoa(ep.ID)
	for _, tc := range []struct {
		name, method, path, body, message string
		status                            int
	}{
		{"patch url", http.MethodPatch, "/api/v1/webhooks/" + id, `{"url":"mailto:me@example.com"}`, "url must use http or https", 400},
		{"patch action", http.MethodPatch, "/api/v1/webhooks/" + id, `{"actions":["nope"]}`, `unknown action "nope"`, 400},
		{"patch unknown field", http.MethodPatch, "/api/v1/webhooks/" + id, `{"secret":"whsec_x"}`, `unknown field "secret"`, 400},
		{"rotate secret", http.MethodPost, "/api/v1/webhooks/" + id + "/rotate", `{"secret":"nope"}`, "secret must start with", 400},
		{"rotate grace", http.MethodPost, "/api/v1/webhooks/" + id + "/rotate", `{"grace_seconds":-1}`, "grace_seconds must be between", 400},
		{"replay since missing", http.MethodPost, "/api/v1/webhooks/" + id + "/replay", `{}`, "since is required", 400},
		{"replay since bad", http.MethodPost, "/api/v1/webhooks/" + id + "/replay", `{"since":"yesterday"}`, "since must be an RFC 3339 time", 400},
		{"deliveries limit", http.MethodGet, "/api/v1/webhooks/" + id + "/deliveries?limit=0", "", "limit must be between 1 and 1000", 400},
		{"deliveries before", http.MethodGet, "/api/v1/webhooks/" + id + "/deliveries?before=x", "", "query parameter before must be an integer", 400},
		{"bad id", http.MethodGet, "/api/v1/webhooks/abc", "", `id must be a positive integer, got "abc"`, 400},
		{"unknown webhook", http.MethodGet, "/api/v1/webhooks/999", "", "webhook 999 not found", 404},
		{"unknown webhook patch", http.MethodPatch, "/api/v1/webhooks/999", `{"description":"x"}`, "webhook 999 not found", 404},
		{"unknown webhook test", http.MethodPost, "/api/v1/webhooks/999/test", "", "webhook 999 not found", 404},
		{"unknown webhook deliveries", http.MethodGet, "/api/v1/webhooks/999/deliveries", "", "webhook 999 not found", 404},
		{"unknown delivery", http.MethodPost, "/api/v1/deliveries/999/replay", "", "delivery 999 not found", 404},
	} {
		status, body := b.do(t, tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, status, "%s: %s", tc.name, body)
		require.Contains(t, errorOf(t, body).Error.Message, tc.message, tc.name)
	}
	got, err := b.client.GetWebhook(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9/hook", got.URL, "failed patches wrote nothing")
	require.Empty(t, got.Actions)
}

// errorOf decodes an error response.
func errorOf(t *testing.T, body string) api.ErrorBody {
	t.Helper()
	var e api.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e
}
