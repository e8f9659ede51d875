package webhook

import (
	"net/http"
	"net/http/httptest"
	"slices"
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
