package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(o options) bool
	}{
		{"defaults", nil, "", func(o options) bool {
			return o.Records == 10_000_000 && o.Senders == 4 && o.Batch == 2000 && o.QueryRuns == 10 && o.OTLPFraction == 0.2 && o.HeadMaxAge == 30*time.Second
		}},
		{"scale", []string{"--records", "1000000", "--senders", "8", "--batch", "5000", "--keep", "--binary", "bin/mirador"}, "", func(o options) bool {
			return o.Records == 1_000_000 && o.Senders == 8 && o.Batch == 5000 && o.Keep && o.Binary == "bin/mirador"
		}},
		{"server args repeat", []string{"--server-arg=--a=1", "--server-arg=--b=2"}, "", func(o options) bool { return len(o.ServerArgs) == 2 }},
		{"no records", []string{"--records", "0"}, "--records 0", nil},
		{"fraction above one", []string{"--otlp-fraction", "1.5"}, "--otlp-fraction", nil},
		{"too few query runs", []string{"--query-runs", "3"}, "at least 5", nil},
		{"bad pregenerate", []string{"--pregenerate", "sometimes"}, "--pregenerate", nil},
		{"short profile", []string{"--cpuprofile-duration", "500ms"}, "--cpuprofile-duration", nil},
		{"stray argument", []string{"extra"}, "unexpected arguments", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}
