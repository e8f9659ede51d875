package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// hookPathPrefix is the start of every endpoint's path on the receiver; the
// rest is the endpoint's index.
const hookPathPrefix = "/hook/"

// hookReceiver is the local webhook receiver of the webhook mode: one path
// per endpoint, each verified with its own secret by the Standard Webhooks
// reference library.
type hookReceiver struct {
	endpoints []*hookEndpoint
	// stray counts requests to paths that are no endpoint's.
	strayMu sync.Mutex
	stray   int
}

// hookEndpoint is the receiving side of one registered endpoint. Each has
// its own lock so that deliveries to different endpoints never contend.
type hookEndpoint struct {
	secret   string
	verifier *standardwebhooks.Webhook

	mu       sync.Mutex
	samples  []hookSample
	badSigs  int
	firstBad string    // the first verification error, to show
	last     time.Time // arrival of the latest verified delivery
}

// hookSample is one verified delivery.
type hookSample struct {
	id      string        // webhook-id header: the event id
	latency time.Duration // envelope timestamp to receipt; -1 if unreadable
}

// newHookReceiver returns a receiver for endpoints with these secrets.
func newHookReceiver(secrets []string) (*hookReceiver, error) {
	h := &hookReceiver{endpoints: make([]*hookEndpoint, len(secrets))}
	for i, s := range secrets {
		v, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return nil, err
		}
		h.endpoints[i] = &hookEndpoint{secret: s, verifier: v}
	}
	return h, nil
}

// hookPath returns the receiver's path of endpoint i.
func hookPath(i int) string { return hookPathPrefix + strconv.Itoa(i) }

// ServeHTTP verifies a delivery and records its latency. A delivery whose
// signature does not verify is answered 401, as a real receiver would, and
// counted as a failure, not a receipt.
func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, hookPathPrefix))
	if err != nil || i < 0 || i >= len(h.endpoints) || !strings.HasPrefix(r.URL.Path, hookPathPrefix) {
		h.strayMu.Lock()
		h.stray++
		h.strayMu.Unlock()
		http.NotFound(w, r)
		return
	}
	ep := h.endpoints[i]
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = ep.verifier.Verify(body, r.Header)
	}
	if err != nil {
		ep.mu.Lock()
		ep.badSigs++
		if ep.firstBad == "" {
			ep.firstBad = err.Error()
		}
		ep.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	lat := time.Duration(-1)
	if _, ts, ok := envelopeHead(body); ok {
		lat = at.Sub(ts)
	}
	ep.mu.Lock()
	ep.samples = append(ep.samples, hookSample{id: r.Header.Get(standardwebhooks.HeaderWebhookID), latency: lat})
	ep.last = at
	ep.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// received returns how many verified deliveries arrived over all endpoints.
func (h *hookReceiver) received() int {
	n := 0
	for _, ep := range h.endpoints {
		ep.mu.Lock()
		n += len(ep.samples)
		ep.mu.Unlock()
	}
	return n
}
