package benchproc

import "testing"

func TestParseListening(t *testing.T) {
	tests := []struct {
		line, name, addr string
		ok               bool
	}{
		{"time=2026-11-22T11:02:57.782Z level=INFO msg=listening listener=http addr=127.0.0.1:43631", "http", "127.0.0.1:43631", true},
		{"time=x level=INFO msg=listening listener=otlp_http addr=127.0.0.1:37839", "otlp_http", "127.0.0.1:37839", true},
		{"time=x level=INFO msg=\"starting mirador\" version=0.1.0", "", "", false},
	}
	for _, tt := range tests {
		name, addr, ok := parseListening(tt.line)
		if name != tt.name || addr != tt.addr || ok != tt.ok {
			t.Errorf("parseListening(%q) = %q, %q, %v", tt.line, name, addr, ok)
		}
	}
}
