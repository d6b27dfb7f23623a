package benchproc

import (
	"math"
	"slices"
	"time"
)

// LatencySummary describes a set of latencies. Percentiles are nearest
// rank: p99 of 50 runs is the slowest run.
type LatencySummary struct {
	Count int     `json:"count"`
	P50ms float64 `json:"p50_ms"`
	P90ms float64 `json:"p90_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// Summarize computes the summary of d without modifying it; an empty d
// gives the zero summary.
func Summarize(d []time.Duration) LatencySummary {
	if len(d) == 0 {
		return LatencySummary{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := max(int(math.Ceil(p*float64(len(s))))-1, 0)
		return Ms(s[i])
	}
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return LatencySummary{
		Count: len(s), P50ms: rank(0.50), P90ms: rank(0.90), P99ms: rank(0.99), MaxMs: Ms(s[len(s)-1]),
		Mean: Ms(sum / time.Duration(len(s))),
	}
}

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
