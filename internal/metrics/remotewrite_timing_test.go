package metrics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// BenchmarkRemoteWriteV1 measures the receive path after HTTP and snappy:
// protobuf decode, limit checks and TSDB append + WAL commit, for batches
// of 2,000 series × 1 sample (Prometheus's max_samples_per_send) drawn
// from 10,000 series of 10 labels. It runs on one goroutine, so
// samples/s is per core (the TSDB's background work aside).
func BenchmarkRemoteWriteV1(b *testing.B) {
	const seriesTotal, perBatch = 10_000, 2_000
	e := openTestEngine(b, func(string) Limits {
		return Limits{MaxLabelsPerSeries: 40, MaxLabelNameLength: 1024, MaxLabelValueLength: 4096}
	})
	db, err := e.tenant("bench")
	if err != nil {
		b.Fatal(err)
	}
	series := make([][]prompb.Label, seriesTotal)
	for i := range series {
		series[i] = []prompb.Label{
			{Name: "__name__", Value: fmt.Sprintf("bench_metric_%d_total", i%20)},
			{Name: "env", Value: []string{"prod", "staging"}[i%2]},
			{Name: "instance", Value: fmt.Sprintf("10.0.%d.%d:9100", i/250%256, i%250)},
			{Name: "job", Value: fmt.Sprintf("job-%d", i%10)},
			{Name: "method", Value: []string{"GET", "POST", "PUT"}[i%3]},
			{Name: "pod", Value: fmt.Sprintf("api-%d", i%500)},
			{Name: "region", Value: []string{"eu-west-1", "us-east-1", "ap-south-1"}[i%3]},
			{Name: "service", Value: fmt.Sprintf("svc-%d", i%50)},
			{Name: "status", Value: []string{"200", "404", "500"}[i%3]},
			{Name: "zone", Value: fmt.Sprintf("z%d", i%6)},
		}
	}
	start := time.Now().Add(-2 * time.Hour).UnixMilli()
	bodies := make([][]byte, seriesTotal/perBatch)
	encode := func(round int) {
		for j := range bodies {
			req := prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, perBatch)}
			for k := range req.Timeseries {
				req.Timeseries[k] = prompb.TimeSeries{Labels: series[j*perBatch+k], Samples: []prompb.Sample{{Timestamp: start + int64(round)*1000, Value: float64(round)}}}
			}
			bodies[j], _ = req.Marshal()
		}
	}
	encode(0)
	for _, body := range bodies { // create the series outside the timing
		if _, err := writeV1(context.Background(), db, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	samples := 0
	for i := 0; i < b.N; i++ {
		j := i % len(bodies)
		if j == 0 {
			b.StopTimer()
			encode(i/len(bodies) + 1)
			b.StartTimer()
		}
		a, err := writeV1(context.Background(), db, bodies[j])
		if err != nil || a.rejected.total > 0 {
			b.Fatalf("%v %s", err, a.rejected.summary(a.stored()))
		}
		samples += a.stored()
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
}
