package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/encoding/protowire"
)

// The synthetic fleet: targets (one per instance and pod) each export the
// same 20 metrics in 5 variants of a status-style label, so 100 series per
// target and 10,000 series for 100 targets. Every series has 10 labels
// including __name__. Label values repeat the way they do in a Kubernetes
// fleet: 10 jobs, 20 services, 3 regions, 9 zones, 2 environments, 20
// handlers, 5 statuses; instance and pod are unique per target.
//
// Each metric has its own handler, so series stay distinct without their
// name: functions such as rate() drop __name__, and PromQL refuses a
// result with two identical label sets, so a query over every metric
// ({__name__=~"bench_.+"}) needs that.

const seriesPerTarget = len(metricKinds) * len(statuses)

// metricKind is how one metric's values evolve from one scrape to the next.
type metricKind struct {
	name string
	kind valueKind
	// counters: each scrape adds a random integer in [0, maxInc], or 0 with
	// probability 1-incProb. gauges: a random walk with integer steps in
	// [-maxInc, maxInc] clamped to [lo, hi]. constants: lo forever.
	maxInc  int
	incProb float64
	lo, hi  float64
}

type valueKind uint8

const (
	counter valueKind = iota
	gauge
	constant
)

// metricKinds: 13 counters growing by small random integers (some idle
// most of the time, like error counters), 6 gauges walking within bounds
// and one constant: all integer-valued, as most exporters' series are.
// Fractional values (CPU seconds, ratios) and large increments (byte
// counters) compress worse under Gorilla XOR encoding and are not
// generated.
var metricKinds = [...]metricKind{
	{name: "bench_http_requests_total", kind: counter, maxInc: 40, incProb: 1},
	{name: "bench_http_request_errors_total", kind: counter, maxInc: 2, incProb: 0.1},
	{name: "bench_db_rows_read_total", kind: counter, maxInc: 100, incProb: 1},
	{name: "bench_jobs_processed_total", kind: counter, maxInc: 20, incProb: 0.9},
	{name: "bench_rpc_calls_total", kind: counter, maxInc: 20, incProb: 1},
	{name: "bench_rpc_failures_total", kind: counter, maxInc: 1, incProb: 0.05},
	{name: "bench_db_queries_total", kind: counter, maxInc: 60, incProb: 1},
	{name: "bench_cache_hits_total", kind: counter, maxInc: 100, incProb: 1},
	{name: "bench_cache_misses_total", kind: counter, maxInc: 10, incProb: 0.8},
	{name: "bench_messages_consumed_total", kind: counter, maxInc: 100, incProb: 1},
	{name: "bench_messages_produced_total", kind: counter, maxInc: 100, incProb: 1},
	{name: "bench_gc_cycles_total", kind: counter, maxInc: 2, incProb: 0.5},
	{name: "bench_log_lines_total", kind: counter, maxInc: 100, incProb: 1},
	{name: "bench_inflight_requests", kind: gauge, maxInc: 3, lo: 0, hi: 64},
	{name: "bench_queue_depth", kind: gauge, maxInc: 25, lo: 0, hi: 2_000},
	{name: "bench_open_connections", kind: gauge, maxInc: 4, lo: 1, hi: 512},
	{name: "bench_goroutines", kind: gauge, maxInc: 15, lo: 40, hi: 8_000},
	{name: "bench_memory_resident_pages", kind: gauge, maxInc: 64, lo: 16 << 10, hi: 1 << 20},
	{name: "bench_threads", kind: gauge, maxInc: 1, lo: 8, hi: 256},
	{name: "bench_build_info", kind: constant, lo: 1},
}

// benchSelector matches every series the driver writes.
const benchSelector = `{__name__=~"bench_.+"}`

var (
	statuses = [...]string{"200", "201", "404", "429", "500"}
	jobs     = [...]string{"api", "checkout", "search", "auth", "cart", "payments", "inventory", "shipping", "frontend", "recommendation"}
	regions  = [...]string{"eu-west-1", "us-east-1", "ap-southeast-2"}
	handlers = [len(metricKinds)]string{"/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/cart/items", "/api/v1/search",
		"/api/v1/users/{id}", "/api/v1/login", "/api/v1/logout", "/api/v1/payments", "/api/v1/payments/{id}", "/api/v1/inventory",
		"/api/v1/shipments", "/api/v1/recommendations", "/healthz", "/readyz", "/metrics", "/grpc.health.v1.Health/Check",
		"/orders.v1.Orders/Get", "/orders.v1.Orders/List", "/cart.v1.Cart/Add"}
)

// fleet is the set of series the driver writes: their labels, pre-encoded
// once as protobuf, and their current values.
type fleet struct {
	// encodedLabels[i] is series i's labels as the repeated field 1 of a
	// prometheus.TimeSeries message, ready to be copied into requests.
	encodedLabels [][]byte
	kinds         []*metricKind
	values        []float64
	jobCount      int // distinct values of the job label
}

// seriesLabels returns the labels of series i.
func seriesLabels(i int) labels.Labels {
	target, m, status := i/seriesPerTarget, i%seriesPerTarget/len(statuses), i%len(statuses)
	job := jobs[target%len(jobs)]
	region := target / len(jobs) % len(regions)
	zone := fmt.Sprintf("%s%c", regions[region], 'a'+byte(target/(len(jobs)*len(regions))%3))
	return labels.FromStrings(
		"__name__", metricKinds[m].name,
		"job", job,
		"service", fmt.Sprintf("%s-%s", job, []string{"http", "grpc"}[target/len(jobs)%2]),
		"instance", fmt.Sprintf("10.%d.%d.%d:8080", target>>16&255, target>>8&255, target&255),
		"pod", fmt.Sprintf("%s-%08x-%05x", job, uint32(target/len(jobs))*2654435761, uint32(target)*40503&0xfffff),
		"region", regions[region],
		"zone", zone,
		"handler", handlers[m],
		"env", []string{"prod", "prod", "prod", "prod", "staging"}[target%5],
		"status", statuses[status],
	)
}

// newFleet builds n series with initial values drawn from seed.
func newFleet(n int, seed uint64) *fleet {
	rng := rand.New(rand.NewPCG(seed, 0))
	f := &fleet{
		encodedLabels: make([][]byte, n),
		kinds:         make([]*metricKind, n),
		values:        make([]float64, n),
		jobCount:      min(len(jobs), (n+seriesPerTarget-1)/seriesPerTarget),
	}
	for i := range n {
		f.encodedLabels[i] = encodeLabels(seriesLabels(i))
		k := &metricKinds[i%seriesPerTarget/len(statuses)]
		f.kinds[i] = k
		switch k.kind {
		case counter:
			// Counters of long-running processes: far from zero.
			f.values[i] = float64(rng.IntN(k.maxInc*10_000 + 1))
		case gauge:
			f.values[i] = k.lo + float64(rng.IntN(int(k.hi-k.lo)+1))
		case constant:
			f.values[i] = k.lo
		}
	}
	return f
}

// next advances series i by one scrape and returns its new value. Each
// series is advanced by one sender only, with that sender's rng.
func (f *fleet) next(i int, rng *rand.Rand) float64 {
	k := f.kinds[i]
	v := f.values[i]
	switch k.kind {
	case counter:
		if k.incProb >= 1 || rng.Float64() < k.incProb {
			v += float64(rng.IntN(k.maxInc + 1))
		}
	case gauge:
		v += float64(rng.IntN(2*k.maxInc+1) - k.maxInc)
		v = min(max(v, k.lo), k.hi)
	}
	f.values[i] = v
	return v
}

// encodeLabels encodes ls as the repeated Label field of a TimeSeries.
func encodeLabels(ls labels.Labels) []byte {
	var b []byte
	ls.Range(func(l labels.Label) {
		pl := prompb.Label{Name: l.Name, Value: l.Value}
		enc, err := pl.Marshal()
		if err != nil {
			panic(err) // marshalling two strings cannot fail
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, enc)
	})
	return b
}
