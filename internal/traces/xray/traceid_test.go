package xray

import (
	"strings"
	"testing"
)

func TestParseTraceID(t *testing.T) {
	want := [16]byte{0x58, 0x40, 0x65, 0x20, 0xa0, 0x06, 0x64, 0x91, 0x27, 0xe3, 0x71, 0x90, 0x3a, 0x2d, 0xe9, 0x79}
	for _, tc := range []struct {
		in      string
		wantErr string
	}{
		{in: "1-58406520-a006649127e371903a2de979"},
		{in: "58406520a006649127e371903a2de979"},
		{in: "1-58406520-A006649127E371903A2DE979"},
		{in: "", wantErr: "want 1-<8 hex>-<24 hex>"},
		{in: "2-58406520-a006649127e371903a2de979", wantErr: "want 1-<8 hex>-<24 hex>"},
		{in: "1-5840652-a006649127e371903a2de9790", wantErr: "want 1-<8 hex>-<24 hex>"},
		{in: "1-58406520-a006649127e371903a2de97", wantErr: "want 1-<8 hex>-<24 hex>"},
		{in: "1-58406520-a006649127e371903a2de97g", wantErr: "not a hex digit"},
		{in: "1-00000000-000000000000000000000000", wantErr: "all zeros"},
		{in: "58406520a006649127e371903a2de97", wantErr: "want 1-<8 hex>-<24 hex>"},
	} {
		got, err := ParseTraceID(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "trace_id") {
				t.Errorf("ParseTraceID(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ParseTraceID(%q) = %x, %v; want %x", tc.in, got, err, want)
		}
	}
}

func TestFormatTraceIDRoundTrip(t *testing.T) {
	const s = "1-58406520-a006649127e371903a2de979"
	id, err := ParseTraceID(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatTraceID(id); got != s {
		t.Errorf("FormatTraceID = %q, want %q", got, s)
	}
	// An OpenTelemetry id prints with its first 8 hex digits as the "time".
	otel, _ := ParseTraceID("4efaaf4d1e8720b39541901950019ee5")
	if got := FormatTraceID(otel); got != "1-4efaaf4d-1e8720b39541901950019ee5" {
		t.Errorf("FormatTraceID(otel) = %q", got)
	}
}

func TestParseSegmentID(t *testing.T) {
	id, err := ParseSegmentID("70de5b6f19ff9a0a")
	if err != nil || FormatSegmentID(id) != "70de5b6f19ff9a0a" {
		t.Fatalf("ParseSegmentID round trip: %x %v", id, err)
	}
	for in, want := range map[string]string{
		"70de5b6f19ff9a0":   "got 15 characters",
		"70de5b6f19ff9a0a0": "got 17 characters",
		"70de5b6f19ff9a0x":  "not a hex digit",
		"0000000000000000":  "all zeros",
	} {
		if _, err := ParseSegmentID(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSegmentID(%q) error = %v, want %q", in, err, want)
		}
	}
}
