package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkOutbox measures the outbox in two phases, each with b.N
// messages fanned over 16 subscriptions of a local webhook receiver:
// publishing (one transaction per message, 8 publishers at once) while the
// dispatcher is stopped, then delivering the backlog (dispatch, sign,
// POST, record the attempt; each subscription receives one message at a
// time, in order).
//
//	go test ./internal/notify -run '^$' -bench Outbox -benchtime 20000x
func BenchmarkOutbox(b *testing.B) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer srv.Close()
	t := &testing.T{}
	f := newService(t, func(o *Options) { o.Workers = 16 })
	defer f.stop()
	ctx := context.Background()
	const subs = 16
	for i := range subs {
		topic := fmt.Sprintf("t%d", i)
		mustTopic(t, f.svc, "acme", topic, 0)
		if _, err := f.svc.Subscribe(ctx, "acme", topic, Subscription{Protocol: ProtocolWebhook, Endpoint: srv.URL}); err != nil {
			b.Fatal(err)
		}
	}
	f.stop()
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				if _, _, err := f.svc.Publish(ctx, "acme", fmt.Sprintf("t%d", i%subs), Message{Body: `{"AlarmName":"x","NewStateValue":"ALARM"}`}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	published := time.Since(start)
	start = time.Now()
	f.start()
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	delivered := time.Since(start)
	b.ReportMetric(float64(b.N)/published.Seconds(), "published/s")
	b.ReportMetric(float64(b.N)/delivered.Seconds(), "delivered/s")
}
