package logs

import (
	"errors"
	"testing"
	"time"
)

func TestIndexGroupDropsTheDateSuffix(t *testing.T) {
	for in, want := range map[string]string{
		"logstash-2026.11.22": "logstash", "vector-2026-11-22": "vector", "app_2026.11.22": "app",
		"app": "app", "2026.11.22": "2026.11.22", "filebeat-8.11.0-2026.11.22": "filebeat-8.11.0",
	} {
		if got := IndexGroup(in); got != want {
			t.Errorf("IndexGroup(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzBulk(f *testing.F) {
	f.Add("{\"create\":{\"_index\":\"app\"}}\n{\"message\":\"x\",\"@timestamp\":\"2026-11-22T10:00:00Z\"}\n{\"delete\":{\"_index\":\"app\",\"_id\":\"1\"}}\n", "")
	f.Add("{\"index\":{}}\n{\"log\":\"y\"}\n", "vector-2026.11.22")
	f.Fuzz(func(t *testing.T, body, index string) {
		items, recs, itemOf, err := parseBulk(body, index, time.Unix(1763805600, 0))
		if err != nil {
			if !errors.Is(err, ErrMalformedBulk) {
				t.Fatalf("error not ErrMalformedBulk: %v", err)
			}
			return
		}
		if len(recs) != len(itemOf) {
			t.Fatalf("%d records, %d item indexes", len(recs), len(itemOf))
		}
		for i, it := range itemOf {
			if it < 0 || it >= len(items) || items[it].Status != 0 || recs[i].Group == "" {
				t.Fatalf("record %d points at item %d of %d (%+v)", i, it, len(items), items)
			}
		}
	})
}
