package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/webhook"
)

// webhookOptions are the flags of the webhook mode.
type webhookOptions struct {
	server     string
	token      string
	endpoints  int
	rate       float64 // events per second; 0: as fast as the server answers
	duration   time.Duration
	grace      time.Duration
	publishers int
	pid        int
	checkLog   bool
}

const webhookUsage = "usage: lsdvr-load webhook [--server URL] [--endpoints N] [--rate PER_SECOND (0: max)] [--duration D] [--grace D] [--publishers N] [--pid PID]"

func parseWebhook(args []string) (webhookOptions, error) {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	var o webhookOptions
	fs.StringVar(&o.server, "server", "http://127.0.0.1:8080", "address of the lsdvr server")
	fs.StringVar(&o.token, "token", os.Getenv("LSDVR_TOKEN"), "API token (env LSDVR_TOKEN)")
	fs.IntVar(&o.endpoints, "endpoints", 1, "webhook endpoints to register, each with its own path and secret")
	fs.Float64Var(&o.rate, "rate", 200, "events to publish per second; 0 publishes as fast as the server answers")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to publish")
	fs.DurationVar(&o.grace, "grace", 10*time.Second, "how long to wait for deliveries after the last publish")
	fs.IntVar(&o.publishers, "publishers", 4, "goroutines publishing at once")
	fs.IntVar(&o.pid, "pid", 0, "server process id, to report its memory (optional)")
	fs.BoolVar(&o.checkLog, "check-log", true, "check afterwards that the server's attempt log recorded every delivery")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.endpoints < 1 || o.publishers < 1 || o.duration <= 0 {
		return o, errors.New("--endpoints, --publishers and --duration must be positive")
	}
	if o.rate < 0 || o.grace < 0 {
		return o, errors.New("--rate and --grace must not be negative")
	}
	return o, nil
}

func runWebhook(ctx context.Context, o webhookOptions, out io.Writer) (err error) {
	c, err := newClient(o.server, o.token, o.publishers)
	if err != nil {
		return err
	}
	secrets := make([]string, o.endpoints)
	for i := range secrets {
		secrets[i] = newSecret()
	}
	recv, err := newHookReceiver(secrets)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for deliveries: %w", err)
	}
	hs := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	ids, err := registerEndpoints(ctx, c, base, secrets)
	defer func() {
		// Clean up even after an interrupt: the endpoints would otherwise
		// keep failing against a receiver that is gone.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		deleted := 0
		for _, id := range ids {
			if derr := c.DeleteWebhook(dctx, id); derr != nil {
				err = cmpErr(err, fmt.Errorf("delete webhook %d: %w", id, derr))
				continue
			}
			deleted++
		}
		fmt.Fprintf(out, "deleted %d endpoints\n", deleted)
	}()
	if err != nil {
		return err
	}
	target := "as fast as possible"
	if o.rate > 0 {
		target = fmt.Sprintf("%g events/s", o.rate)
	}
	fmt.Fprintf(out, "receiving on %s; registered %d endpoints; publishing %s for %s from %d goroutines\n",
		base, len(ids), target, o.duration, o.publishers)

	pub := publishNotices(ctx, c, o)
	fmt.Fprintf(out, "published %d events (%d errors) in %s: %.1f/s", len(pub.ids), pub.errs,
		pub.elapsed.Round(time.Millisecond), float64(len(pub.ids))/pub.elapsed.Seconds())
	if o.rate > 0 {
		fmt.Fprintf(out, " (target %g/s, max lag behind schedule %s)", o.rate, pub.maxLag.Round(time.Microsecond))
	}
	fmt.Fprintln(out)
	if pub.firstErr != nil {
		fmt.Fprintf(out, "first publish error: %v\n", pub.firstErr)
	}

	want := len(pub.ids) * o.endpoints
	waitDelivered(ctx, recv, want, o.grace)
	reportWebhook(out, o, pub, recv)

	if o.checkLog {
		recorded, err := recordedDeliveries(ctx, c, ids, pub.ids)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "attempt log: %d/%d deliveries recorded as succeeded\n", recorded, want)
	}
	if o.pid > 0 {
		rss, hwm, err := memory(o.pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "server memory: rss %s, peak %s\n", rss, hwm)
	}
	return nil
}

// cmpErr returns the first non-nil error.
func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// newClient returns an API client that keeps a connection per concurrent
// request: the default transport keeps only two, and redialing on every
// request would make the load program measure itself.
func newClient(server, token string, conns int) (*client.Client, error) {
	c, err := client.New(server, token)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(conns, 2)
	c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	return c, nil
}

// newSecret returns a fresh Standard Webhooks secret: "whsec_" and base64
// of 32 random bytes.
func newSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never returns an error
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// registerEndpoints creates one endpoint per secret, pointing at its own
// path of the receiver and filtered to notify events, and returns the ids
// created so far, also on error.
func registerEndpoints(ctx context.Context, c *client.Client, base string, secrets []string) ([]int64, error) {
	ids := make([]int64, 0, len(secrets))
	for i, s := range secrets {
		ep, err := c.CreateWebhook(ctx, webhook.CreateParams{
			URL:         base + hookPath(i),
			Secret:      s,
			Actions:     []event.Action{event.ActionNotify},
			Description: "lsdvr-load " + strconv.Itoa(i+1),
		})
		if err != nil {
			return ids, fmt.Errorf("register endpoint %d: %w", i+1, err)
		}
		ids = append(ids, ep.ID)
	}
	return ids, nil
}

// publication is what publishNotices did.
type publication struct {
	ids      []string // event ids of the notices published
	errs     int
	firstErr error
	start    time.Time     // when publishing began
	elapsed  time.Duration // from start to the last answer
	maxLag   time.Duration // paced: the most a send started behind its schedule
}

// publishNotices publishes notify events (category "load") from
// o.publishers goroutines for o.duration. With a rate, event n is sent at
// start + n/rate: a late answer makes the next sends catch up instead of
// silently lowering the rate, and the lag is reported. With rate 0 each
// goroutine sends its next notice as soon as the last is answered.
func publishNotices(ctx context.Context, c *client.Client, o webhookOptions) publication {
	var (
		mu     sync.Mutex
		pub    publication
		next   atomic.Int64
		wg     sync.WaitGroup
		lastAt time.Time
	)
	interval := time.Duration(0)
	if o.rate > 0 {
		interval = time.Duration(float64(time.Second) / o.rate)
	}
	start := time.Now()
	end := start.Add(o.duration)
	for range o.publishers {
		wg.Go(func() {
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				var lag time.Duration
				if interval > 0 {
					due := start.Add(time.Duration(n) * interval)
					if !due.Before(end) {
						return
					}
					if wait := time.Until(due); wait > 0 {
						timer.Reset(wait)
						select {
						case <-ctx.Done():
							return
						case <-timer.C:
						}
					}
					lag = time.Since(due)
				} else if !time.Now().Before(end) {
					return
				}
				res, err := c.Notify(ctx, client.Notice{Title: "load " + strconv.FormatInt(n+1, 10), Category: "load"})
				now := time.Now()
				mu.Lock()
				pub.maxLag = max(pub.maxLag, lag)
				if err != nil {
					if ctx.Err() == nil {
						pub.errs++
						pub.firstErr = cmpErr(pub.firstErr, err)
					}
				} else {
					pub.ids = append(pub.ids, res.EventID)
				}
				if now.After(lastAt) {
					lastAt = now
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	pub.start = start
	pub.elapsed = lastAt.Sub(start)
	if pub.elapsed <= 0 {
		pub.elapsed = time.Since(start)
	}
	return pub
}

// waitDelivered waits until want verified deliveries arrived or grace
// passed. The receiver is checked every few milliseconds, which costs
// nothing next to the deliveries.
func waitDelivered(ctx context.Context, recv *hookReceiver, want int, grace time.Duration) {
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for recv.received() < want {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// reportWebhook prints rates, completeness and latency, per endpoint and in
// total. Rates count each event's first verified delivery to an endpoint,
// from the start of publishing to that endpoint's last receipt.
func reportWebhook(out io.Writer, o webhookOptions, pub publication, recv *hookReceiver) {
	published := make(map[string]bool, len(pub.ids))
	for _, id := range pub.ids {
		published[id] = true
	}
	start := pub.start
	var (
		all                       []time.Duration
		total, undelivered, dupes int
		badSigs, others           int // others: deliveries of events this run did not publish
		lastAll                   time.Time
		firstBad                  string
		lines                     []string
	)
	for i, ep := range recv.endpoints {
		ep.mu.Lock()
		seen := make(map[string]bool, len(ep.samples))
		var lats []time.Duration
		epDupes, epOthers := 0, 0
		for _, s := range ep.samples {
			switch {
			case !published[s.id]:
				epOthers++
			case seen[s.id]:
				epDupes++
			default:
				seen[s.id] = true
				if s.latency >= 0 {
					lats = append(lats, s.latency)
				}
			}
		}
		n := len(seen)
		last := ep.last
		bad, fb := ep.badSigs, ep.firstBad
		ep.mu.Unlock()
		if last.IsZero() {
			last = start
		}
		if last.After(lastAll) {
			lastAll = last
		}
		window := last.Sub(start)
		missing := len(pub.ids) - n
		total += n
		undelivered += missing
		dupes += epDupes
		others += epOthers
		badSigs += bad
		if firstBad == "" {
			firstBad = fb
		}
		all = append(all, lats...)
		lines = append(lines, fmt.Sprintf("endpoint %d: %d received, %s, %d undelivered, %d duplicates, %d bad signatures; latency %s",
			i+1, n, perSecond(n, window), missing, epDupes, bad, percentiles(lats)))
	}
	fmt.Fprintf(out, "deliveries: %d/%d, %s in total over %d endpoints\n", total, len(pub.ids)*o.endpoints,
		perSecond(total, lastAll.Sub(start)), o.endpoints)
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintf(out, "latency (envelope timestamp to receipt): %s\n", percentiles(all))
	fmt.Fprintf(out, "signature failures: %d\n", badSigs)
	if firstBad != "" {
		fmt.Fprintf(out, "first signature failure: %s\n", firstBad)
	}
	fmt.Fprintf(out, "undelivered after %s grace: %d\n", o.grace, undelivered)
	if dupes > 0 {
		fmt.Fprintf(out, "duplicate deliveries: %d\n", dupes)
	}
	if others > 0 {
		fmt.Fprintf(out, "deliveries of events published by others: %d\n", others)
	}
	recv.strayMu.Lock()
	if recv.stray > 0 {
		fmt.Fprintf(out, "requests to unknown paths: %d\n", recv.stray)
	}
	recv.strayMu.Unlock()
}

func perSecond(n int, d time.Duration) string {
	if d <= 0 {
		return "0.0/s"
	}
	return fmt.Sprintf("%.1f/s", float64(n)/d.Seconds())
}

// recordedDeliveries pages through the attempt log of every endpoint and
// counts the published events whose delivery the server recorded as
// succeeded. Results are written in batches, so a few pages may be missing
// right after the last receipt: it looks again, briefly, until all are in.
func recordedDeliveries(ctx context.Context, c *client.Client, endpointIDs []int64, eventIDs []string) (int, error) {
	want := len(endpointIDs) * len(eventIDs)
	published := make(map[string]bool, len(eventIDs))
	for _, id := range eventIDs {
		published[id] = true
	}
	var n int
	for try := range 5 {
		if try > 0 {
			select {
			case <-ctx.Done():
				return n, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		n = 0
		for _, epID := range endpointIDs {
			got, err := recordedFor(ctx, c, epID, published)
			if err != nil {
				return 0, err
			}
			n += got
		}
		if n >= want {
			break
		}
	}
	return n, nil
}

func recordedFor(ctx context.Context, c *client.Client, endpointID int64, published map[string]bool) (int, error) {
	ok := make(map[string]bool, len(published))
	var before int64
	for {
		page, err := c.WebhookAttempts(ctx, endpointID, webhook.MaxListLimit, before)
		if err != nil {
			return 0, fmt.Errorf("read attempt log of webhook %d: %w", endpointID, err)
		}
		for _, a := range page {
			if published[a.EventID] && a.Status == "succeeded" {
				ok[a.EventID] = true
			}
		}
		if len(page) < webhook.MaxListLimit {
			return len(ok), nil
		}
		before = page[len(page)-1].ID
	}
}
