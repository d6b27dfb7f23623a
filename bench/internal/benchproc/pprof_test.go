package benchproc

import (
	"bytes"
	"strings"
	"testing"
)

const pprofTopOutput = `File: mirador
Type: cpu
Duration: 10s, Total samples = 15.20s (152.00%)
Showing nodes accounting for 15.20s, 100% of 15.20s total
      flat  flat%   sum%        cum   cum%
     1.20s  7.89%  7.89%      1.50s  9.87%  runtime.mallocgc
     0.90s  5.92% 13.82%      6.10s 40.13%  github.com/miradorhq/mirador/internal/logs.(*Service).IngestNDJSON
         0     0% 13.82%      9.00s 59.21%  net/http.(*conn).serve
`

func TestParsePprofTopReadsTheChosenColumn(t *testing.T) {
	flat, err := parsePprofTop([]byte(pprofTopOutput), false)
	if err != nil {
		t.Fatal(err)
	}
	cum, err := parsePprofTop([]byte(pprofTopOutput), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(flat) != 3 || flat[0] != (ProfileEntry{"runtime.mallocgc", 7.89}) || flat[2].Percent != 0 {
		t.Errorf("flat = %+v", flat)
	}
	if len(cum) != 3 || cum[1] != (ProfileEntry{"github.com/miradorhq/mirador/internal/logs.(*Service).IngestNDJSON", 40.13}) {
		t.Errorf("cum = %+v", cum)
	}
}

func TestPackageOf(t *testing.T) {
	tests := map[string]string{
		"runtime.mallocgc": "runtime",
		"github.com/miradorhq/mirador/internal/logs.(*Service).IngestNDJSON": "github.com/miradorhq/mirador/internal/logs",
		"github.com/klauspost/compress/zstd.(*Encoder).EncodeAll.func1":      "github.com/klauspost/compress/zstd",
		"net/http.(*conn).serve": "net/http",
	}
	for sym, want := range tests {
		if got := packageOf(sym); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", sym, got, want)
		}
	}
}

func TestProfileWriteTextHasHeadingAndSections(t *testing.T) {
	p := &Profile{File: "cpu.pprof", Flat: []ProfileEntry{{"runtime.mallocgc", 7.89}}}
	var b bytes.Buffer
	p.WriteText(&b, "first 10s of the NDJSON ingest")
	out := b.String()
	for _, want := range []string{"Server CPU profile, first 10s of the NDJSON ingest (cpu.pprof)", "flat, by function:", "  7.9%  runtime.mallocgc"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
