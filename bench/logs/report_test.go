package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// sampleReport is a report whose figures sit on both sides of the aims.
func sampleReport() *report {
	ok := checkResult{OK: true, Summary: "10 rows, 10 of 10 planted records"}
	r := &report{
		Options:  options{Settle: 75e9, QueryRuns: 5},
		Workload: workloadInfo{Records: 1000, NDJSONRecords: 800, OTLPRecords: 200, Services: []string{"a"}},
		Ingest: []phaseResult{
			{Name: "NDJSON", Protocol: "NDJSON", Records: 800, RecordsPerCoreSecond: 260_000, Memory: benchproc.Memory{PeakRSSBytes: 500 << 20}, PeakIsPhase: true},
			{Name: "OTLP/HTTP protobuf", Protocol: "OTLP/HTTP protobuf", Records: 200, RecordsPerCoreSecond: 120_000, Memory: benchproc.Memory{PeakRSSBytes: 1100 << 20}},
		},
		Disk: diskResult{Compression: 12.5, BytesPerRecord: 50},
		Queries: []querySeries{
			{Name: "needle search", Query: needleQuery, Cold: queryRun{Check: ok}, Warm: []queryRun{{Check: ok}}, WarmOK: true,
				WarmLatency: benchproc.LatencySummary{P50ms: 120, P99ms: 310}},
			{Name: "stats by minute and level", Query: statsQuery, Cold: queryRun{Check: checkResult{Summary: "wrong", Problems: []string{"bin x: count 1, want 2"}}},
				Warm: []queryRun{{Check: ok}}, WarmOK: true, WarmLatency: benchproc.LatencySummary{P50ms: 900, P99ms: 950}},
		},
	}
	r.evaluate()
	return r
}

func TestEvaluateHoldsEachFigureAgainstItsAim(t *testing.T) {
	r := sampleReport()
	want := map[string]bool{
		"ingest over NDJSON, records/s per server core":                   true,
		"ingest over OTLP/HTTP protobuf, records/s per server core":       false,
		"compression against the raw NDJSON (all of events/ after flush)": true,
		"needle search, warm median latency":                              true,
		"needle search, warm p99 latency":                                 false,
		"needle search returns exactly what was ingested":                 true,
		"stats by minute and level, warm median latency":                  true,
		"stats by minute and level, warm p99 latency":                     true,
		"stats by minute and level returns exactly what was ingested":     false,
		"server peak RSS, all phases":                                     false,
	}
	if len(r.Aims) != len(want) {
		t.Errorf("%d aims, want %d: %+v", len(r.Aims), len(want), r.Aims)
	}
	for _, a := range r.Aims {
		met, ok := want[a.What]
		if !ok {
			t.Errorf("unexpected aim %q", a.What)
			continue
		}
		if a.Met != met {
			t.Errorf("%s: met = %v, want %v (measured %s against %s)", a.What, a.Met, met, a.Measured, a.Target)
		}
	}
}

func TestMarkdownReportShowsAimsChecksAndEscapesPipes(t *testing.T) {
	r := sampleReport()
	r.note("a note for the reader")
	var b bytes.Buffer
	r.writeMarkdown(&b)
	out := b.String()
	for _, want := range []string{
		"# Mirador logs benchmark",
		"| ingest over OTLP/HTTP protobuf, records/s per server core | ≥ 250k | 120k | **not met** |",
		"| needle search, warm median latency | < 300 ms | 120 ms | met |",
		"`filter @message like /\\bneedle7f3c9a1e\\b/ \\| fields @timestamp, @message`",
		"  - bin x: count 1, want 2",
		"posix_fadvise(POSIX_FADV_DONTNEED)",
		"- a note for the reader",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| `filter") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 9 {
			t.Errorf("line %d breaks the table: %s", i, line)
		}
	}
}
