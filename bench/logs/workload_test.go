package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"testing"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// collect runs w and returns its requests.
func collect(t *testing.T, w *workload) []request {
	t.Helper()
	g := NewGenerator(w.gen)
	ch := make(chan request, w.maxRequests(len(g.Buckets())))
	if err := w.produce(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	close(ch)
	var out []request
	for r := range ch {
		out = append(out, r)
	}
	return out
}

func TestNDJSONWorkloadSendsEveryRecordOnceGroupedByStream(t *testing.T) {
	gen := GeneratorConfig{Seed: 4, Start: testStart, Rate: 500}
	g := NewGenerator(gen)
	const from, to = 1000, 9000
	hist := newHistogram(g.TimeOf(from), g.TimeOf(to-1))
	reqs := collect(t, &workload{gen: gen, proto: protoNDJSON, from: from, to: to, batch: 50, workers: 3, hist: hist})
	buckets := g.Buckets()
	seen := map[string]bool{}
	var records int
	for _, r := range reqs {
		if int64(len(r.body)) != r.rawBytes {
			t.Fatalf("request of bucket %d: raw bytes %d, body %d", r.bucket, r.rawBytes, len(r.body))
		}
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		sc.Buffer(nil, 1<<20)
		lines := 0
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m["service.name"] != buckets[r.bucket][0] || m["host.name"] != buckets[r.bucket][1] {
				t.Fatalf("a line of %s/%s in the request of %v", m["service.name"], m["host.name"], buckets[r.bucket])
			}
			if seen[sc.Text()] {
				t.Fatalf("line sent twice: %s", sc.Text())
			}
			seen[sc.Text()] = true
			lines++
		}
		if lines != r.records {
			t.Fatalf("request says %d records, holds %d lines", r.records, lines)
		}
		records += lines
	}
	if records != to-from || hist.total() != to-from {
		t.Errorf("%d records sent, %d counted, want %d", records, hist.total(), to-from)
	}
	// The same requests whatever the number of workers.
	again := collect(t, &workload{gen: gen, proto: protoNDJSON, from: from, to: to, batch: 50, workers: 1, hist: hist.empty()})
	bodies := func(rs []request) []string {
		var s []string
		for _, r := range rs {
			s = append(s, string(r.body))
		}
		slices.Sort(s)
		return s
	}
	if !slices.Equal(bodies(reqs), bodies(again)) {
		t.Error("1 and 3 workers produce different requests")
	}
}

func TestGzipWorkloadCompressesTheSameLines(t *testing.T) {
	gen := GeneratorConfig{Seed: 4, Start: testStart, Rate: 500}
	g := NewGenerator(gen)
	plain := collect(t, &workload{gen: gen, proto: protoNDJSON, from: 0, to: 2000, batch: 40, workers: 1, hist: newHistogram(g.TimeOf(0), g.TimeOf(1999))})
	zipped := collect(t, &workload{gen: gen, proto: protoNDJSON, from: 0, to: 2000, batch: 40, workers: 1, gzip: true, hist: newHistogram(g.TimeOf(0), g.TimeOf(1999))})
	if len(plain) != len(zipped) {
		t.Fatalf("%d plain requests, %d gzip ones", len(plain), len(zipped))
	}
	for i := range plain {
		zr, err := gzip.NewReader(bytes.NewReader(zipped[i].body))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, plain[i].body) || zipped[i].rawBytes != int64(len(body)) || len(zipped[i].body) >= len(body) {
			t.Fatalf("request %d: gzip body does not hold the plain one (raw %d, zipped %d)", i, zipped[i].rawBytes, len(zipped[i].body))
		}
	}
}

func TestOTLPWorkloadCarriesTheRecords(t *testing.T) {
	gen := GeneratorConfig{Seed: 9, Start: testStart, Rate: 500}
	g := NewGenerator(gen)
	const from, to = 100, 1100
	reqs := collect(t, &workload{gen: gen, proto: protoOTLP, from: from, to: to, batch: 64, workers: 2, hist: newHistogram(g.TimeOf(from), g.TimeOf(to-1))})
	var rec Record
	got := 0
	for _, r := range reqs {
		if r.records > 64 {
			t.Fatalf("request of %d records, batch is 64", r.records)
		}
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(r.body); err != nil {
			t.Fatal(err)
		}
		ld := req.Logs()
		if ld.LogRecordCount() != r.records {
			t.Fatalf("request says %d records, holds %d", r.records, ld.LogRecordCount())
		}
		var raw int64
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			svc, _ := rl.Resource().Attributes().Get("service.name")
			host, _ := rl.Resource().Attributes().Get("host.name")
			lrs := rl.ScopeLogs().At(0).LogRecords()
			for j := 0; j < lrs.Len(); j++ {
				lr := lrs.At(j)
				// Find the record by its timestamp and body among the batch.
				found := false
				for k := r.first; k < r.first+int64(r.records); k++ {
					g.Record(k, &rec)
					if int64(lr.Timestamp()) == rec.Time && lr.Body().Str() == rec.Message() {
						found = true
						raw += int64(len(appendNDJSON(nil, &rec)))
						if svc.Str() != rec.Service || host.Str() != rec.Host || lr.SeverityText() != rec.Level.String() ||
							lr.Attributes().Len() != len(rec.Attrs) || int32(lr.SeverityNumber()) != otelSeverity[rec.Level] {
							t.Fatalf("record %d encoded wrongly", k)
						}
						break
					}
				}
				if !found {
					t.Fatalf("OTLP record %q is not among records %d..", lr.Body().Str(), r.first)
				}
				got++
			}
		}
		if raw != r.rawBytes {
			t.Fatalf("raw bytes %d, the records' NDJSON is %d", r.rawBytes, raw)
		}
	}
	if got != to-from {
		t.Errorf("%d records in the requests, want %d", got, to-from)
	}
}

func TestHistogramCells(t *testing.T) {
	h := newHistogram(testStart.UnixNano(), testStart.Add(3*60e9).UnixNano())
	o := h.empty()
	o.add(testStart.UnixNano(), LevelInfo)
	o.add(testStart.Add(61e9).UnixNano(), LevelError)
	o.add(testStart.Add(62e9).UnixNano(), LevelError)
	o.add(testStart.Add(-60e9).UnixNano(), LevelError) // outside: ignored
	h.merge(o)
	m := testStart.Unix() / 60
	want := map[statsCell]int64{{m, "INFO"}: 1, {m + 1, "ERROR"}: 2}
	got := h.cells()
	if len(got) != len(want) || got[statsCell{m, "INFO"}] != 1 || got[statsCell{m + 1, "ERROR"}] != 2 || h.total() != 3 {
		t.Errorf("cells %v, want %v", got, want)
	}
}
