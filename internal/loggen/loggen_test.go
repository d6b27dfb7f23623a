package loggen

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestGeneratorIsDeterministicAndVaried(t *testing.T) {
	a, b := New(1, time.Unix(0, 0), time.Millisecond), New(1, time.Unix(0, 0), time.Millisecond)
	bodies := map[string]bool{}
	levels := map[string]int{}
	needles := 0
	for i := range 1_000_000 {
		ra, rb := a.Next(), b.Next()
		if ra.Body != rb.Body || ra.Time != rb.Time {
			t.Fatalf("record %d differs between two generators with one seed", i)
		}
		if i < 10000 {
			bodies[ra.Body] = true
			if n := len(ra.Attributes); n < 5 || n > 15 {
				t.Fatalf("record %d has %d attributes", i, n)
			}
			line := NDJSON(nil, &ra)
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("NDJSON %s: %v", line, err)
			}
		}
		levels[ra.SeverityText]++
		if strings.Contains(ra.Body, Needle) {
			needles++
		}
	}
	if len(bodies) < 9990 {
		t.Errorf("only %d distinct bodies in 10,000 records", len(bodies))
	}
	if len(levels) != 4 || levels["ERROR"] < 10000 {
		t.Errorf("levels %v", levels)
	}
	if needles != 1 {
		t.Errorf("%d needles in 1M records, want 1", needles)
	}
}
