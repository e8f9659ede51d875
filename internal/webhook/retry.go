package webhook

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// retryDelay returns how long to wait after the given attempt (from 1)
// failed, and false when the schedule is exhausted. retryAfter, the
// receiver's Retry-After (0 when absent), wins over a shorter scheduled delay
// but is capped at the longest step of the schedule, so a receiver cannot
// park a delivery for ever.
func retryDelay(schedule []time.Duration, jitter float64, attempt int, retryAfter time.Duration) (time.Duration, bool) {
	if attempt >= len(schedule) {
		return 0, false
	}
	d := schedule[attempt]
	if jitter > 0 && d > 0 {
		// A factor in [1-jitter, 1+jitter).
		d = time.Duration(float64(d) * (1 - jitter + 2*jitter*rand.Float64()))
	}
	if retryAfter > d {
		d = max(d, min(retryAfter, slices.Max(schedule)))
	}
	return d, true
}

// parseRetryAfter reads a Retry-After header, in delay-seconds or as an
// HTTP date, relative to now. It returns 0 when the header is absent,
// malformed or in the past.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Clamp absurd values before they overflow a Duration.
		return time.Duration(min(secs, int64(365*24*time.Hour/time.Second))) * time.Second
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return d
	}
	return 0
}

// honoursRetryAfter reports whether a response with this status may ask for
// a later retry.
func honoursRetryAfter(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}
