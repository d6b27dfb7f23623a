package metricfilter

import (
	"errors"
	"testing"

	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

// FuzzCompile feeds filter definitions as PutMetricFilter takes them:
// each is refused with ErrInvalid or compiles, and a compiled filter runs
// over a message, and through Test, without panicking.
func FuzzCompile(f *testing.F) {
	f.Add(`{ $.status = 200 }`, "$.latency", "route", "$.route", `{"status":200,"latency":3,"route":"/a"}`)
	f.Add(`[ip, user, ts, request, status=4*, bytes]`, "$bytes", "status", "$status", `1.2.3.4 - [x] "GET /" 404 10`)
	f.Add(`ERROR -timeout`, "1", "", "", "ERROR disk full")
	f.Add(`[a, ..., b]`, "$b", "Status Code", "$a", "x y z")
	f.Fuzz(func(t *testing.T, pattern, value, dim, ref, message string) {
		tr := Transformation{MetricName: "m", MetricNamespace: "N", MetricValue: value}
		if dim != "" {
			tr.Dimensions = map[string]string{dim: ref}
		}
		c, err := compile(Filter{Name: "f", LogGroup: "g", Pattern: pattern, Transformations: []Transformation{tr}})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if ok, x := c.pattern.MatchExtract(filterpattern.Event{Message: message}); ok {
			_, _ = c.valueOf(x)
			_, _ = c.dimsOf(x)
			_ = c.labels(new([MaxDimensions]string), 0)
		}
		if _, err := Test(pattern, &tr, []string{message}); err != nil {
			t.Fatalf("Test refuses what compile accepts: %v", err)
		}
	})
}
