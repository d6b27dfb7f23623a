package metricfilter

import (
	"fmt"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// BenchmarkObserve applies a JSON filter with a dimension and a
// space-delimited one to batches of 1,000 NDJSON-like records of one
// group; and a batch of a group without filters.
func BenchmarkObserve(b *testing.B) {
	f := newFixture(b)
	f.put(b, "acme", filter("latency", "api", `{ $.status = 200 }`, Transformation{
		MetricName: "latency", MetricNamespace: "Shop", MetricValue: "$.latency", Dimensions: map[string]string{"route": "$.route"},
	}))
	f.put(b, "acme", filter("errors", "api", `ERROR`, Transformation{MetricName: "errors", MetricNamespace: "Shop", MetricValue: "1", DefaultValue: ptr(0.0)}))
	batch := func(group string) []eventstore.Record {
		recs := make([]eventstore.Record, 1000)
		for i := range recs {
			recs[i] = rec(group, f.t0.Add(time.Duration(i)*time.Millisecond), "INFO served",
				"status", fmt.Sprint([]int{200, 200, 200, 500}[i%4]), "latency", fmt.Sprint(i%300), "route", fmt.Sprint("/r", i%20))
		}
		return recs
	}
	for _, c := range []struct{ name, group string }{{"filters", "api"}, {"none", "web"}} {
		b.Run(c.name, func(b *testing.B) {
			recs := batch(c.group)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				f.applier.Observe("acme", recs)
			}
			b.ReportMetric(float64(b.N*len(recs))/time.Since(start).Seconds(), "records/s")
		})
	}
}
