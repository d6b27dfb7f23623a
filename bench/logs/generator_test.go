package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// wholeNeedle finds the needle as the needle query does: as a whole word,
// RE2's \b being the boundary of the event store's tokens.
var wholeNeedle = regexp.MustCompile(`\b` + Needle + `\b`)

var testStart = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func testGenerator(seed uint64) *Generator {
	return NewGenerator(GeneratorConfig{Seed: seed, Start: testStart, Rate: 2000, NeedleEvery: NeedleEvery})
}

// ndjsonOf renders record i of g as its NDJSON line.
func ndjsonOf(g *Generator, i int64) string {
	var r Record
	g.Record(i, &r)
	return string(appendNDJSON(nil, &r))
}

func TestGeneratorIsDeterministicAndOrderIndependent(t *testing.T) {
	a, b := testGenerator(7), testGenerator(7)
	want := make([]string, 2000)
	for i := range want {
		want[i] = ndjsonOf(a, int64(i))
	}
	// Another generator with the same config, visiting records backwards,
	// produces the same lines.
	for i := len(want) - 1; i >= 0; i-- {
		if got := ndjsonOf(b, int64(i)); got != want[i] {
			t.Fatalf("record %d differs:\n%s\n%s", i, got, want[i])
		}
	}
	if c := testGenerator(8); ndjsonOf(c, 5) == want[5] {
		t.Error("seeds 7 and 8 produce the same record 5")
	}
}

func TestGeneratorVariety(t *testing.T) {
	g := testGenerator(1)
	const n = 50_000
	messages := map[string]bool{}
	lines := map[string]bool{}
	levels := map[Level]int{}
	services := map[string]int{}
	hosts := map[string]bool{}
	tmpls := map[int]int{}
	attrCounts := map[int]int{}
	buckets := g.Buckets()
	var r Record
	for i := range int64(n) {
		g.Record(i, &r)
		messages[r.Message()] = true
		lines[string(appendNDJSON(nil, &r))] = true
		levels[r.Level]++
		services[r.Service]++
		hosts[r.Host] = true
		if bk := buckets[r.Bucket]; bk != [2]string{r.Service, r.Host} {
			t.Fatalf("record %d of %s/%s has bucket %v", i, r.Service, r.Host, bk)
		}
		tmpls[r.Template]++
		attrCounts[len(r.Attrs)]++
		if len(r.Attrs) < 5 || len(r.Attrs) > 15 {
			t.Fatalf("record %d has %d attributes, want 5 to 15", i, len(r.Attrs))
		}
		keys := map[string]bool{}
		for _, a := range r.Attrs {
			if keys[a.Key] {
				t.Fatalf("record %d repeats attribute %s", i, a.Key)
			}
			keys[a.Key] = true
		}
	}
	if len(lines) != n {
		t.Errorf("%d distinct lines in %d records: a line repeats", len(lines), n)
	}
	if len(messages) < n*99/100 {
		t.Errorf("%d distinct messages in %d records, want 99%%", len(messages), n)
	}
	if len(tmpls) != len(templates) {
		t.Errorf("%d of %d templates used", len(tmpls), len(templates))
	}
	if len(services) != len(serviceSpecs) || len(hosts) != len(g.Buckets()) {
		t.Errorf("%d services, %d hosts; want %d, %d", len(services), len(hosts), len(serviceSpecs), len(g.Buckets()))
	}
	if len(attrCounts) < 6 {
		t.Errorf("attribute counts %v: records vary too little in shape", attrCounts)
	}
	// A realistic mix: mostly INFO, some DEBUG and WARN, a few ERROR.
	share := func(l Level) float64 { return float64(levels[l]) / n }
	if share(LevelInfo) < 0.45 || share(LevelInfo) > 0.8 || share(LevelDebug) < 0.05 || share(LevelWarn) < 0.03 ||
		share(LevelError) < 0.005 || share(LevelError) > 0.08 {
		t.Errorf("level mix %v", levels)
	}
	if services["gateway"] < n/5 || services["notifications"] < n/50 {
		t.Errorf("service mix %v", services)
	}
}

func TestGeneratorTimestampsAdvanceAtTheRate(t *testing.T) {
	g := testGenerator(3)
	var r Record
	prev := int64(0)
	for i := range int64(10_000) {
		g.Record(i, &r)
		if r.Time < prev {
			t.Fatalf("record %d at %d is before record %d at %d", i, r.Time, i-1, prev)
		}
		if r.Time%int64(time.Millisecond) != 0 || r.Observed < r.Time {
			t.Fatalf("record %d: time %d, observed %d", i, r.Time, r.Observed)
		}
		if g.TimeOf(i) != r.Time {
			t.Fatalf("TimeOf(%d) = %d, Record says %d", i, g.TimeOf(i), r.Time)
		}
		prev = r.Time
	}
	// 10,000 records at 2,000 per second span 5 s.
	if span := time.Duration(prev - testStart.UnixNano()); span < 4900*time.Millisecond || span > 5*time.Second {
		t.Errorf("10,000 records span %s, want 5s", span)
	}
}

func TestNeedlesArePlantedExactlyWhereTheGeneratorSays(t *testing.T) {
	const every = 1000
	g := NewGenerator(GeneratorConfig{Seed: 11, Start: testStart, Rate: 2000, NeedleEvery: every})
	want := g.NeedleIndexes(0, 10*every)
	if len(want) != 10 {
		t.Fatalf("NeedleIndexes = %v, want 10", want)
	}
	if got := g.NeedleIndexes(want[3], want[5]+1); len(got) != 3 || got[0] != want[3] {
		t.Errorf("NeedleIndexes(%d, %d) = %v", want[3], want[5]+1, got)
	}
	var found []int64
	var r Record
	for i := range int64(10 * every) {
		g.Record(i, &r)
		count := len(wholeNeedle.FindAllStringIndex(r.Message(), -1))
		if strings.Contains(r.Message(), Needle) != (count == 1) || r.Needle != (count == 1) {
			t.Fatalf("record %d: needle flag %v, %d whole-word needles in %q", i, r.Needle, count, r.Message())
		}
		if count == 1 {
			found = append(found, i)
		}
	}
	if len(found) != len(want) {
		t.Fatalf("needles in records %v, generator says %v", found, want)
	}
	for i := range found {
		if found[i] != want[i] {
			t.Fatalf("needles in records %v, generator says %v", found, want)
		}
	}
	if d := NewGenerator(GeneratorConfig{Seed: 11, Start: testStart, Rate: 2000, NeedleEvery: NeedleEvery}).NeedleIndexes(0, 3*NeedleEvery); len(d) != 3 {
		t.Errorf("default spacing plants %d needles in 3M records, want 3", len(d))
	}
}

func TestNDJSONLinesParseToTheRecord(t *testing.T) {
	g := testGenerator(5)
	var r Record
	for i := range int64(3000) {
		g.Record(i, &r)
		line := appendNDJSON(nil, &r)
		if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
			t.Fatalf("record %d: not one line: %q", i, line)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("record %d: %v: %s", i, err, line)
		}
		ts, err := time.Parse(time.RFC3339Nano, m["@timestamp"].(string))
		if err != nil || ts.UnixNano() != r.Time {
			t.Fatalf("record %d: @timestamp %v (%v), want %d", i, m["@timestamp"], err, r.Time)
		}
		if m["message"] != r.Message() || m["level"] != r.Level.String() || m["service.name"] != r.Service || m["host.name"] != r.Host {
			t.Fatalf("record %d: %s", i, line)
		}
		for _, a := range r.Attrs {
			v, ok := m[a.Key]
			if !ok {
				t.Fatalf("record %d lacks %s: %s", i, a.Key, line)
			}
			switch a.Kind {
			case AttrString:
				if v != r.Str(&a) {
					t.Fatalf("record %d: %s = %v, want %q", i, a.Key, v, r.Str(&a))
				}
			case AttrInt:
				if n, err := v.(json.Number).Int64(); err != nil || n != a.Int {
					t.Fatalf("record %d: %s = %v, want %d", i, a.Key, v, a.Int)
				}
			case AttrFloat:
				if f, err := v.(json.Number).Float64(); err != nil || f != a.Float {
					t.Fatalf("record %d: %s = %v, want %v", i, a.Key, v, a.Float)
				}
			case AttrBool:
				if v != (a.Int != 0) {
					t.Fatalf("record %d: %s = %v, want %v", i, a.Key, v, a.Int != 0)
				}
			}
		}
	}
}

func BenchmarkGenerateNDJSON(b *testing.B) {
	g := testGenerator(1)
	var r Record
	var buf []byte
	var bytes int64
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		g.Record(int64(i), &r)
		buf = appendNDJSON(buf[:0], &r)
		bytes += int64(len(buf))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/record")
}
