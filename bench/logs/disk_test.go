package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const storeMetricsText = `# HELP mirador_eventstore_head_bytes Estimated memory held by the heads.
# TYPE mirador_eventstore_head_bytes gauge
mirador_eventstore_head_bytes 0
# TYPE mirador_eventstore_parts gauge
mirador_eventstore_parts 12
# TYPE mirador_eventstore_part_bytes gauge
mirador_eventstore_part_bytes 1.2345e+08
# TYPE mirador_eventstore_appended_records_total counter
mirador_eventstore_appended_records_total 1e+07
# TYPE mirador_eventstore_flushes_total counter
mirador_eventstore_flushes_total 40
# TYPE mirador_eventstore_compactions_total counter
mirador_eventstore_compactions_total 3
# TYPE go_goroutines gauge
go_goroutines 42
`

func TestParseStoreGauges(t *testing.T) {
	g, err := parseStoreGauges([]byte(storeMetricsText))
	if err != nil {
		t.Fatal(err)
	}
	want := storeGauges{HeadBytes: 0, Parts: 12, PartBytes: 1.2345e8, Appended: 1e7, Flushes: 40, Compactions: 3}
	if g != want {
		t.Errorf("gauges %+v, want %+v", g, want)
	}
	without := strings.ReplaceAll(storeMetricsText, "mirador_eventstore_head_bytes 0\n", "")
	if _, err := parseStoreGauges([]byte(without)); err == nil || !strings.Contains(err.Error(), "mirador_eventstore_head_bytes") {
		t.Errorf("a missing gauge gave %v, want an error naming it", err)
	}
	if _, err := parseStoreGauges([]byte("mirador_eventstore_parts{ 1\n")); err == nil {
		t.Error("a malformed exposition parsed")
	}
}

func TestMeasureDiskSplitsTheDirectoryAndReadsTheManifest(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string, n int) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("parts/default/logs/p1.parquet", 4000)
	write("parts/default/logs/p2.parquet", 3000)
	write("wal/0000000001.wal", 500)
	manifest, err := os.ReadFile("testdata/MANIFEST.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := measureDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := int64(len(manifest))
	if d.TotalBytes != 7500+m || d.PartBytes != 7000 || d.WALBytes != 500 || d.OtherBytes != m {
		t.Errorf("sizes %+v", d)
	}
	if d.Parts != 2 || d.PartRows != 200_000 || d.PartsByLevel[0] != 1 || d.PartsByLevel[1] != 1 || d.LargestPart.ID != "p1" || d.ManifestError != "" {
		t.Errorf("manifest figures %+v (audit parts must not count)", d)
	}
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err = measureDisk(dir); err != nil || d.ManifestError == "" {
		t.Errorf("a broken manifest gave %v, %q; want its error in the figures", err, d.ManifestError)
	}
}

func FuzzParseStoreGauges(f *testing.F) {
	f.Add([]byte(storeMetricsText))
	f.Add([]byte("mirador_eventstore_parts NaN\n"))
	f.Add([]byte("# TYPE x histogram\nx_bucket{le=\"+Inf\"} 1\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		_, _ = parseStoreGauges(text)
	})
}

func FuzzDecodeManifest(f *testing.F) {
	b, err := os.ReadFile("testdata/MANIFEST.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"parts":[{"rows":-1}]}`))
	f.Add([]byte(`{"parts":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := decodeManifest(b)
		for _, p := range parts {
			if err == nil && (p.Rows < 0 || p.Size < 0) {
				t.Errorf("accepted part %+v", p)
			}
		}
	})
}
