package webhook

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultSchedule returns the default delay before each attempt, counted
// from the previous one: eight attempts over about 28 hours.
func DefaultSchedule() []time.Duration {
	return []time.Duration{
		0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
		2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
	}
}

// Defaults of Config's fields.
const (
	DefaultJitter        = 0.2
	DefaultTimeout       = 15 * time.Second
	DefaultDisableAfter  = 5 * 24 * time.Hour
	DefaultWorkers       = 32
	DefaultPerEndpoint   = 8
	DefaultResponseLimit = 4096
	DefaultPollInterval  = time.Second
	DefaultRotationGrace = 24 * time.Hour
	// UserAgent is sent with every delivery.
	UserAgent = "lsdvr-webhooks/1"
)

// Config tunes a Service. The zero Config is valid: every zero field takes
// its default.
type Config struct {
	// Schedule is the delay before each attempt, counted from the previous
	// attempt; its length is the number of attempts, and Schedule[0] is the
	// delay before the first (0 sends at once). Default DefaultSchedule().
	Schedule []time.Duration
	// Jitter is the fraction (0 to 1) by which each retry delay is randomly
	// lengthened or shortened, so that retries of many deliveries spread
	// out. 0 means the default 0.2; a negative value disables jitter.
	Jitter float64
	// Timeout bounds one HTTP attempt, from dialing to the end of the
	// response body. Default 15 s.
	Timeout time.Duration
	// DisableAfter disables an endpoint whose every attempt has failed for
	// this long (since its failing_since), and publishes an alert. 0 means
	// the default of 5 days; a negative value never disables.
	DisableAfter time.Duration
	// Workers is the number of attempts in flight at once, over all
	// endpoints. Default 32.
	Workers int
	// PerEndpoint is the number of attempts in flight at once to one
	// endpoint, so that a slow endpoint cannot take every worker. Default 8;
	// capped at Workers.
	PerEndpoint int
	// ResponseLimit is how many bytes of each response body the attempt log
	// keeps. 0 means the default 4096; a negative value keeps none.
	ResponseLimit int
	// PollInterval is how often due retries are claimed. Default 1 s. First
	// attempts never wait for it: they are handed over on commit.
	PollInterval time.Duration
	// HTTPClient sends the deliveries. nil means a client of the Service's
	// own with many idle connections per host that never follows redirects.
	// Its Timeout should be 0: Timeout above applies per attempt.
	HTTPClient *http.Client
	// Registerer receives the Service's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Now is the clock used for scheduling, failing_since, rotation grace
	// and the attempt log; nil means time.Now. The webhook-timestamp header
	// always carries the real time, because receivers check it against
	// their own clocks.
	Now func() time.Time
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if len(c.Schedule) == 0 {
		c.Schedule = DefaultSchedule()
	}
	c.Schedule = append([]time.Duration(nil), c.Schedule...)
	switch {
	case c.Jitter == 0:
		c.Jitter = DefaultJitter
	case c.Jitter < 0:
		c.Jitter = 0
	case c.Jitter > 1:
		c.Jitter = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = DefaultDisableAfter
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.PerEndpoint <= 0 {
		c.PerEndpoint = DefaultPerEndpoint
	}
	if c.PerEndpoint > c.Workers {
		c.PerEndpoint = c.Workers
	}
	switch {
	case c.ResponseLimit == 0:
		c.ResponseLimit = DefaultResponseLimit
	case c.ResponseLimit < 0:
		c.ResponseLimit = 0
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = newHTTPClient(c.Workers)
	}
	return c
}

// newHTTPClient returns the shared delivery client: keep-alive connections
// to every endpoint (a receiver gets up to PerEndpoint at once) and no
// redirects, since a webhook that moved must be updated by its owner.
func newHTTPClient(workers int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * workers
	tr.MaxIdleConnsPerHost = workers
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
