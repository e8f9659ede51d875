package webhook

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
)

// BenchmarkDeliveryThroughput publishes b.N events, each in its own
// transaction, from 4 goroutines to one endpoint with the default Config
// (signing on, SQLite, a loopback receiver) and reports the rate at which
// they reach the receiver, and the rate at which every attempt is recorded.
func BenchmarkDeliveryThroughput(b *testing.B) {
	var received atomic.Int64
	all := make(chan struct{})
	target := int64(b.N)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if received.Add(1) == target {
			close(all)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tb := setup(b, Config{})
	ep := tb.create(b, CreateParams{URL: srv.URL})
	ev := endCapture("bench")

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= target {
				tb.publish(b, ev)
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d deliveries arrived", received.Load(), target)
	}
	elapsed := time.Since(start)
	recorded := func() bool {
		var n int64
		if err := tb.db.Read.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'succeeded'`, ep.ID).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n == target
	}
	tb.waitFor(b, "every attempt to be recorded", recorded)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "recorded/s")
}

// BenchmarkCommitToReceipt publishes one event at a time to one endpoint
// and reports the time from the commit of the publishing transaction to
// the arrival of the request at the receiver: p50 and p99 in ms.
func BenchmarkCommitToReceipt(b *testing.B) {
	arrived := make(chan time.Time, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- time.Now()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tb := setup(b, Config{})
	tb.create(b, CreateParams{URL: srv.URL})
	var committed atomic.Int64 // unix ns of the last commit
	tb.bus.Subscribe(func(*event.Event) { committed.Store(time.Now().UnixNano()) })
	ev := endCapture("latency")

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		tb.publish(b, ev)
		select {
		case at := <-arrived:
			lat = append(lat, at.Sub(time.Unix(0, committed.Load())))
		case <-time.After(time.Minute):
			b.Fatal("a delivery never arrived")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}

// BenchmarkDeliveryThroughputTenEndpoints publishes b.N events, each in its
// own transaction, from 4 goroutines to 10 endpoints (one loopback receiver,
// a path and a secret each) with the default Config, and reports the rate
// at which the 10·b.N deliveries reach the receiver in total and per
// endpoint, and the rate at which every attempt is recorded. ns/op is per
// event, i.e. per 10 deliveries.
func BenchmarkDeliveryThroughputTenEndpoints(b *testing.B) {
	const endpoints = 10
	var received atomic.Int64
	var perPath [endpoints]atomic.Int64
	all := make(chan struct{})
	target := int64(b.N) * endpoints
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/ep/")); err == nil && i >= 0 && i < endpoints {
			perPath[i].Add(1)
		}
		if received.Add(1) == target {
			close(all)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tb := setup(b, Config{})
	for i := range endpoints {
		tb.create(b, CreateParams{URL: srv.URL + "/ep/" + strconv.Itoa(i)})
	}
	ev := endCapture("bench")

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				tb.publish(b, ev)
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d deliveries arrived", received.Load(), target)
	}
	elapsed := time.Since(start)
	recorded := func() bool {
		var n int64
		if err := tb.db.Read.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'succeeded'`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n == target
	}
	tb.waitFor(b, "every attempt to be recorded", recorded)
	b.StopTimer()
	for i := range perPath {
		if got := perPath[i].Load(); got != int64(b.N) {
			b.Fatalf("endpoint %d received %d of %d deliveries", i, got, b.N)
		}
	}
	b.ReportMetric(float64(target)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s/endpoint")
	b.ReportMetric(float64(target)/time.Since(start).Seconds(), "recorded/s")
}

// BenchmarkCommitToReceiptAt200 publishes b.N events, paced at 200 per
// second from one goroutine, to one endpoint, and reports the time from
// the commit of each event's transaction to the arrival of its delivery at
// the receiver (p50, p99 and max in ms) and the publishing rate achieved.
// Unlike BenchmarkCommitToReceipt, deliveries may overlap with the next
// commits, as they do in a busy server.
func BenchmarkCommitToReceiptAt200(b *testing.B) {
	const rate = 200
	var (
		mu        sync.Mutex
		committed = make(map[string]time.Time, b.N) // event id -> commit
		arrived   = make(map[string]time.Time, b.N) // webhook-id -> arrival
		all       = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		mu.Lock()
		arrived[r.Header.Get("webhook-id")] = at
		n := len(arrived)
		mu.Unlock()
		if n == b.N {
			close(all)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tb := setup(b, Config{})
	tb.create(b, CreateParams{URL: srv.URL})
	tb.bus.Subscribe(func(ev *event.Event) {
		at := time.Now()
		mu.Lock()
		committed[ev.ID] = at
		mu.Unlock()
	})
	ev := endCapture("latency")

	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		<-tick.C
		tb.publish(b, ev)
	}
	publishing := time.Since(start)
	select {
	case <-all:
	case <-time.After(time.Minute):
		mu.Lock()
		b.Fatalf("only %d of %d deliveries arrived", len(arrived), b.N)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	lat := make([]time.Duration, 0, b.N)
	for id, at := range arrived {
		c, ok := committed[id]
		if !ok {
			b.Fatalf("delivery of unknown event %q", id)
		}
		lat = append(lat, at.Sub(c))
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[int(0.50*float64(len(lat)-1))]), "p50_ms")
	b.ReportMetric(ms(lat[int(0.99*float64(len(lat)-1))]), "p99_ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max_ms")
	b.ReportMetric(float64(b.N)/publishing.Seconds(), "events/s")
}
