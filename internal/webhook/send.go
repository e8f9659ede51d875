package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// drainLimit is how much of a long response body is read past the kept
// snippet so that the connection can be reused; longer bodies close it.
const drainLimit = 64 << 10

// result is the outcome of one attempt, on its way to the writer.
type result struct {
	job         job
	attemptedAt time.Time // Config.Now at the start of the attempt
	code        int       // 0 when no response arrived
	latency     time.Duration
	errText     string        // empty on success
	response    string        // body snippet
	retryAfter  time.Duration // the receiver's Retry-After on 429/503; 0 when none
}

func (r *result) ok() bool   { return r.code >= 200 && r.code < 300 }
func (r *result) gone() bool { return r.code == http.StatusGone }

// worker runs jobs until the dispatcher closes.
func (s *Service) worker() {
	defer s.workers.Done()
	for {
		j, ok := s.disp.next()
		if !ok {
			return
		}
		r := s.attempt(s.sendCtx, j)
		s.disp.done(j.endpointID)
		if r == nil {
			s.track.release(j.deliveryID)
			continue
		}
		s.results <- r
	}
}

// attempt sends one delivery. It returns nil when no attempt was made: the
// endpoint was deleted or disabled since the job was queued (the delivery
// stays pending for when it is enabled again), or the Service is stopping
// and cut the request short (it is resumed on the next start).
func (s *Service) attempt(ctx context.Context, j job) *result {
	ep := s.snap().byID[j.endpointID]
	if ep == nil || !ep.row.Enabled {
		return nil
	}
	r := &result{job: j, attemptedAt: s.cfg.Now()}
	ts := time.Now()
	sig, err := ep.signer.sign(j.eventID, ts, j.body, r.attemptedAt)
	if err != nil {
		r.errText = err.Error()
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.row.URL, bytes.NewReader(j.body))
	if err != nil {
		r.errText = fmt.Sprintf("build request: %v", err)
		return r
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	h.Set(standardwebhooks.HeaderWebhookID, j.eventID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)

	start := time.Now()
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		r.latency = time.Since(start)
		if s.sendCtx.Err() != nil {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			r.errText = fmt.Sprintf("no response within %s", s.cfg.Timeout)
		} else {
			r.errText = err.Error()
		}
		return r
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, int64(s.cfg.ResponseLimit)))
	if readErr == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	}
	resp.Body.Close()
	r.latency = time.Since(start)
	r.code = resp.StatusCode
	r.response = snippet(body, s.cfg.ResponseLimit)
	switch {
	case r.ok():
	case r.gone():
		r.errText = "endpoint answered 410 Gone"
	default:
		r.errText = "unexpected status " + resp.Status
		if honoursRetryAfter(r.code) {
			r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	s.metrics.latency.Observe(r.latency.Seconds())
	return r
}
