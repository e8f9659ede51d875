package webhook

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Service's Prometheus collectors.
type metrics struct {
	// attempts counts attempts by outcome: success (2xx), retry (failed,
	// another attempt is scheduled), failed (failed, schedule exhausted) and
	// disabled (410 Gone, the endpoint was disabled).
	attempts *prometheus.CounterVec
	// latency is the request latency of each attempt that got a response:
	// from sending the request to the end of the (truncated) body.
	latency prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lsdvr_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: success, retry, failed (schedule exhausted), disabled (410 Gone).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lsdvr_webhook_delivery_latency_seconds",
			Help:    "Request latency of webhook delivery attempts that got a response, from sending the request to reading the response.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
	}
	for _, o := range []outcome{outcomeSuccess, outcomeRetry, outcomeFailed, outcomeDisabled} {
		m.attempts.WithLabelValues(string(o))
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.attempts, m.latency} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register webhook metrics: %w", err)
			}
		}
	}
	return m, nil
}
