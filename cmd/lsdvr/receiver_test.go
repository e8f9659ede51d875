package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// receiver is a webhook receiver that verifies every request with the
// Standard Webhooks reference library and records what arrived.
type receiver struct {
	*httptest.Server
	verifier *standardwebhooks.Webhook

	mu       sync.Mutex
	byID     map[string][]byte // webhook-id -> body of its first arrival
	arrivals map[string]int    // webhook-id -> how many times it arrived
	bad      []string          // problems found; a test fails on any
	changed  chan struct{}
}

func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	r := &receiver{verifier: wh, byID: map[string][]byte{}, arrivals: map[string]int{}, changed: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}()
	if err := r.verifier.Verify(body, req.Header); err != nil {
		r.bad = append(r.bad, "signature: "+err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := req.Header.Get("webhook-id")
	var env struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.ID != id {
		r.bad = append(r.bad, "body id "+env.ID+" differs from webhook-id "+id)
	}
	if prev, ok := r.byID[id]; ok && string(prev) != string(body) {
		r.bad = append(r.bad, "webhook-id "+id+" arrived with two different bodies")
	}
	r.byID[id] = body
	r.arrivals[id]++
	w.WriteHeader(http.StatusNoContent)
}

// snapshot returns a copy of the arrival counts and the problems so far.
func (r *receiver) snapshot() (map[string]int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.arrivals))
	for k, v := range r.arrivals {
		out[k] = v
	}
	return out, append([]string(nil), r.bad...)
}
