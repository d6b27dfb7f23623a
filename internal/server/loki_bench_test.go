package server

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
)

// BenchmarkLokiPush measures Loki push ingest through the real server over
// loopback HTTP: promtail-sized requests (100 streams × 20 lines, about
// 200 B a line, protobuf + snappy) from 4 senders, fsync before every
// acknowledgement. It reports lines/s and lines per CPU-second of the
// process (server and senders together, so a lower bound per core).
//
//	go test ./internal/server -run '^$' -bench LokiPush -benchtime 400x
func BenchmarkLokiPush(b *testing.B) {
	s := testServer(b, "", "--limits.ingest-log-records-per-second", "1e9", "--limits.ingest-burst-log-records", "1000000000")
	url := httpBase(s) + "/loki/api/v1/push"
	bodies := make([][]byte, 16)
	base := time.Now().Add(-time.Hour)
	for i := range bodies {
		var req push.PushRequest
		for st := range 100 {
			stream := push.Stream{Labels: fmt.Sprintf(`{service_name="svc-%d", pod="pod-%d-%d", level="info"}`, st%10, st, i)}
			for l := range 20 {
				ts := base.Add(time.Duration(i*2000+st*20+l) * time.Millisecond)
				stream.Entries = append(stream.Entries, push.Entry{Timestamp: ts, Line: fmt.Sprintf(`level=info ts=%s caller=handler.go:%d msg="request served" method=GET path=/api/v1/items/%d status=200 duration=%dms user=u-%d`, ts.Format(time.RFC3339Nano), 100+l, st*l, l*7, st)})
			}
			req.Streams = append(req.Streams, stream)
		}
		raw, _ := req.Marshal()
		bodies[i] = snappy.Encode(nil, raw)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(bodies[i%int64(len(bodies))]))
				if err != nil || resp.StatusCode != http.StatusNoContent {
					b.Errorf("push: %v %v", err, resp)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	lines := float64(b.N * 2000)
	b.ReportMetric(lines/elapsed.Seconds(), "lines/s")
	b.ReportMetric(lines/cpu.Seconds(), "lines/cpu-s")
}
