// Command lsdvr-load puts a running lsdvr server under load and measures it.
//
//	lsdvr-load ws --server http://127.0.0.1:8080 --clients 1000 --rate 100 --duration 20s [--pid PID]
//	lsdvr-load webhook --server http://127.0.0.1:8080 --endpoints 10 --rate 200 --duration 20s [--pid PID]
//
// The ws mode connects N websocket clients to /api/v1/ws, publishes notify
// events through POST /api/v1/notify at the given rate (category "load"),
// and reports, for the events it published, the latency from the event's
// envelope timestamp to the moment the last client received it (p50, p99,
// max), the per-delivery latency, how many events reached every client, and
// which clients the server dropped.
//
// The webhook mode starts a receiver on 127.0.0.1, registers N endpoints
// with it (a path and a secret each, notify events only), publishes notify
// events at the given rate (--rate 0: as fast as the server answers) from
// a few goroutines, verifies every delivery with the Standard Webhooks
// reference library, and reports the achieved publishing rate, deliveries
// per second in total and per endpoint, the latency from the envelope
// timestamp to receipt (p50, p99, max), signature failures, events not
// delivered by the end of the grace period, and whether the server's
// attempt log recorded every delivery. It deletes its endpoints at the end,
// also when interrupted.
//
// Server and load program must share a clock, i.e. run on one machine. The
// envelope timestamp has millisecond precision and is truncated, so
// latencies read up to 1 ms high. With --pid, both modes also print the
// server's resident memory (VmRSS, and the peak VmHWM) from
// /proc/PID/status.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/lsdvr/lsdvr/internal/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lsdvr-load:", err)
		os.Exit(1)
	}
}

// wsOptions are the flags of the ws mode.
type wsOptions struct {
	server   string
	token    string
	clients  int
	rate     float64
	duration time.Duration
	grace    time.Duration
	pid      int
}

const wsUsage = "usage: lsdvr-load ws [--server URL] [--clients N] [--rate PER_SECOND] [--duration D] [--pid PID]"

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(wsUsage + "\n       " + webhookUsage)
	}
	switch args[0] {
	case "ws":
		return runWSArgs(ctx, args[1:], out)
	case "webhook":
		o, err := parseWebhook(args[1:])
		if err != nil {
			return err
		}
		return runWebhook(ctx, o, out)
	}
	return fmt.Errorf("unknown mode %q\n%s\n       %s", args[0], wsUsage, webhookUsage)
}

func runWSArgs(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ws", flag.ContinueOnError)
	var o wsOptions
	fs.StringVar(&o.server, "server", "http://127.0.0.1:8080", "address of the lsdvr server")
	fs.StringVar(&o.token, "token", os.Getenv("LSDVR_TOKEN"), "API token (env LSDVR_TOKEN)")
	fs.IntVar(&o.clients, "clients", 100, "websocket clients to connect")
	fs.Float64Var(&o.rate, "rate", 10, "events to publish per second")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to publish")
	fs.DurationVar(&o.grace, "grace", 2*time.Second, "how long to wait for deliveries after the last publish")
	fs.IntVar(&o.pid, "pid", 0, "server process id, to report its memory (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.clients < 1 || o.rate <= 0 || o.duration <= 0 {
		return errors.New("--clients, --rate and --duration must be positive")
	}
	return runWS(ctx, o, out)
}

// receiver is one websocket client; it keeps its own samples so that
// clients never contend on a lock.
type receiver struct {
	seqs      []int64
	latencies []time.Duration
	closeErr  error
	last      atomic.Int64 // newest seq received, read while reading goes on
	from      int64        // last_seq of the connected message
}

// lastSeqOf reads last_seq from a connected message, 0 when absent.
func lastSeqOf(msg []byte) int64 {
	i := bytes.Index(msg, []byte(`"last_seq":`))
	if i < 0 {
		return 0
	}
	rest := msg[i+len(`"last_seq":`):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0
	}
	n, _ := strconv.ParseInt(string(rest[:end]), 10, 64)
	return n
}

func runWS(ctx context.Context, o wsOptions, out io.Writer) error {
	c, err := newClient(o.server, o.token, 16) // publish keeps up to 16 requests in flight
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connecting %d clients to %s\n", o.clients, c.WebsocketURL("/api/v1/ws"))
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	receivers := make([]*receiver, o.clients)
	var (
		readers  sync.WaitGroup
		dialers  sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
		sem      = make(chan struct{}, 64) // concurrent handshakes
	)
	connectStart := time.Now()
	for i := range receivers {
		r := &receiver{}
		receivers[i] = r
		sem <- struct{}{}
		dialers.Add(1)
		go func() {
			defer dialers.Done()
			conn, err := dial(readCtx, c)
			<-sem
			if err != nil {
				errMu.Lock()
				firstErr = cmp.Or(firstErr, fmt.Errorf("connect client %d: %w", i+1, err))
				errMu.Unlock()
				return
			}
			readers.Add(1)
			go func() {
				defer readers.Done()
				defer conn.CloseNow()
				r.read(readCtx, conn)
			}()
		}()
	}
	dialers.Wait()
	if firstErr != nil {
		stopReading()
		readers.Wait()
		return firstErr
	}
	fmt.Fprintf(out, "connected %d clients in %s\n", o.clients, time.Since(connectStart).Round(time.Millisecond))

	published, publishErrs := publish(ctx, c, o.rate, o.duration)
	fmt.Fprintf(out, "published %d events (%d errors) in %s: %.1f/s (target %g/s)\n", len(published), publishErrs,
		o.duration, float64(len(published))/o.duration.Seconds(), o.rate)
	waitReceived(ctx, receivers, published, o.grace)
	stopReading()
	readers.Wait()

	report(out, published, receivers)
	if o.pid > 0 {
		rss, hwm, err := memory(o.pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "server memory: rss %s, peak %s\n", rss, hwm)
	}
	return nil
}

func dial(ctx context.Context, c *client.Client) (*websocket.Conn, error) {
	opts := &websocket.DialOptions{HTTPHeader: map[string][]string{}}
	if c.Token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+c.Token)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, c.WebsocketURL("/api/v1/ws"), opts)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(16 << 20)
	// A first message that is not {"after":N} tells the hub not to wait
	// for a resume request before streaming.
	if err := conn.Write(dctx, websocket.MessageText, []byte("ping")); err != nil {
		conn.CloseNow()
		return nil, err
	}
	return conn, nil
}

// read records the seq and latency of every event until ctx ends or the
// server closes the connection.
func (r *receiver) read(ctx context.Context, conn *websocket.Conn) {
	for {
		_, msg, err := conn.Read(ctx)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				r.closeErr = err
			}
			return
		}
		seq, ts, ok := envelopeHead(msg)
		if !ok {
			continue
		}
		if seq == 0 {
			// connected: the client receives the events after its last_seq.
			r.from = lastSeqOf(msg)
			continue
		}
		r.seqs = append(r.seqs, seq)
		r.latencies = append(r.latencies, now.Sub(ts))
		r.last.Store(seq)
	}
}

// waitReceived waits until every client has received the newest published
// event (events arrive in seq order), or grace has passed.
func waitReceived(ctx context.Context, receivers []*receiver, published map[int64]bool, grace time.Duration) {
	var newest int64
	for seq := range published {
		newest = max(newest, seq)
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		done := true
		for _, r := range receivers {
			if r.last.Load() < newest {
				done = false
				break
			}
		}
		if done {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// envelopeHead reads seq and timestamp without decoding the whole
// envelope: the load program must stay cheaper than the server it measures.
// The envelope's field order (id, seq, action, timestamp, data) puts both
// near the start.
func envelopeHead(msg []byte) (seq int64, ts time.Time, ok bool) {
	head := msg[:min(len(msg), 256)]
	i := bytes.Index(head, []byte(`"seq":`))
	if i < 0 {
		return 0, time.Time{}, false
	}
	rest := head[i+len(`"seq":`):]
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0, time.Time{}, false
	}
	seq, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	j := bytes.Index(head, []byte(`"timestamp":"`))
	if j < 0 {
		return 0, time.Time{}, false
	}
	rest = head[j+len(`"timestamp":"`):]
	end = bytes.IndexByte(rest, '"')
	if end < 0 {
		return 0, time.Time{}, false
	}
	ts, err = time.Parse(time.RFC3339Nano, string(rest[:end]))
	return seq, ts, err == nil
}

// publish sends notices at rate for d and returns the seqs the server
// gave them. Requests overlap (up to 16) so a slow answer does not lower
// the rate.
func publish(ctx context.Context, c *client.Client, rate float64, d time.Duration) (map[int64]bool, int) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	ticker := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer ticker.Stop()
	var (
		mu     sync.Mutex
		seqs   = map[int64]bool{}
		errs   int
		wg     sync.WaitGroup
		sem    = make(chan struct{}, 16)
		number int
	)
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return seqs, errs
		case <-ticker.C:
		}
		number++
		title := "load " + strconv.Itoa(number)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := c.Notify(context.WithoutCancel(ctx), client.Notice{Title: title, Category: "load"})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				return
			}
			seqs[res.Seq] = true
		}()
	}
}

// report prints delivery completeness and latency percentiles.
func report(out io.Writer, published map[int64]bool, receivers []*receiver) {
	type agg struct {
		count int
		last  time.Duration
	}
	perEvent := make(map[int64]*agg, len(published))
	var deliveries []time.Duration
	dropped := map[string]int{}
	for _, r := range receivers {
		for i, seq := range r.seqs {
			if !published[seq] {
				continue
			}
			a := perEvent[seq]
			if a == nil {
				a = &agg{}
				perEvent[seq] = a
			}
			a.count++
			a.last = max(a.last, r.latencies[i])
			deliveries = append(deliveries, r.latencies[i])
		}
		if r.closeErr != nil {
			reason := r.closeErr.Error()
			var ce websocket.CloseError
			if errors.As(r.closeErr, &ce) {
				reason = fmt.Sprintf("%d %s", ce.Code, ce.Reason)
			}
			dropped[reason]++
		}
	}
	// A client connected without ?after receives the events after the
	// last_seq of its connected message: an event published while it was
	// still being accepted is not due to it.
	var lastClient []time.Duration
	complete := 0
	for seq, a := range perEvent {
		lastClient = append(lastClient, a.last)
		due := 0
		for _, r := range receivers {
			if r.from < seq {
				due++
			}
		}
		if a.count == due {
			complete++
		}
	}
	fmt.Fprintf(out, "reached every client: %d/%d events\n", complete, len(published))
	fmt.Fprintf(out, "publish to last client: %s\n", percentiles(lastClient))
	fmt.Fprintf(out, "per delivery:           %s\n", percentiles(deliveries))
	if len(dropped) == 0 {
		fmt.Fprintln(out, "dropped clients: 0")
	}
	for reason, n := range dropped {
		fmt.Fprintf(out, "dropped clients: %d (%s)\n", n, reason)
	}
}

func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	slices.Sort(d)
	// Microseconds are plenty: the envelope timestamp is only precise to
	// the millisecond.
	at := func(p float64) time.Duration { return d[int(p*float64(len(d)-1))].Round(time.Microsecond) }
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (n=%d)", at(0.50), at(0.99), at(1), len(d))
}

// memory reads VmRSS and VmHWM of pid from /proc.
func memory(pid int) (rss, hwm string, err error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "", "", fmt.Errorf("read server memory: %w", err)
	}
	for line := range strings.Lines(string(raw)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "VmRSS":
			rss = strings.Join(strings.Fields(v), " ")
		case "VmHWM":
			hwm = strings.Join(strings.Fields(v), " ")
		}
	}
	if rss == "" {
		return "", "", fmt.Errorf("read server memory: no VmRSS for pid %d", pid)
	}
	return rss, hwm, nil
}
