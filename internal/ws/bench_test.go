package ws

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
)

// BenchmarkFanout publishes events through a real Bus (SQLite commit
// included) to N clients connected over loopback websockets, and reports
// the p50 and p99 latency from the start of the publish to the moment the
// last client has read the event.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run("clients="+strconv.Itoa(n), func(b *testing.B) {
			benchmarkFanout(b, n)
		})
	}
}

func benchmarkFanout(b *testing.B, clients int) {
	tb := setup(b, Config{SendBuffer: 1024, PingInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)

	got := make(chan struct{}, clients*4)
	for range clients {
		conn := tb.dial(b, ctx, "after=0", nil)
		readConnected(b, ctx, conn)
		go func() {
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					return
				}
				got <- struct{}{}
			}
		}()
	}
	require.Eventually(b, func() bool { return tb.hub.Count() == clients }, 10*time.Second, time.Millisecond)
	data := event.Notify{Title: "fan-out", Body: "a notice of typical size for a benchmark", Category: "bench"}

	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := tb.bus.PublishNow(ctx, data); err != nil {
			b.Fatal(err)
		}
		for range clients {
			<-got
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkBroadcast measures handing one event to 1000 clients' buffers,
// the part of the fan-out that runs while the next commit waits. It must
// report 0 allocs/op: the event and its body are shared.
func BenchmarkBroadcast(b *testing.B) {
	tb := setup(b, Config{})
	clients := fakeClients(tb.hub, 1000, 1)
	ev := &event.Event{Seq: 1, Body: []byte(`{"seq":1}`)}
	b.ReportAllocs()
	for b.Loop() {
		tb.hub.broadcast(ev)
		for _, c := range clients {
			<-c.send
		}
	}
}
