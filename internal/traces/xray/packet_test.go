package xray

import (
	"strings"
	"testing"
)

func TestParsePacket(t *testing.T) {
	doc := `{"trace_id":"1-58406520-a006649127e371903a2de979"}`
	for _, tc := range []struct {
		name, in, wantDoc, wantErr string
	}{
		{name: "sdk header", in: `{"format": "json", "version": 1}` + "\n" + doc, wantDoc: doc},
		{name: "compact, upper-case format", in: `{"format":"JSON","version":1}` + "\n" + doc, wantDoc: doc},
		{name: "document with newlines", in: `{"format":"json","version":1}` + "\n{\n\"a\": 1\n}", wantDoc: "{\n\"a\": 1\n}"},
		{name: "no newline", in: doc, wantErr: "no header line"},
		{name: "header not json", in: "hello\n" + doc, wantErr: `datagram header "hello"`},
		{name: "wrong format", in: `{"format":"xml","version":1}` + "\n" + doc, wantErr: `format "xml": want "json"`},
		{name: "missing format", in: `{"version":1}` + "\n" + doc, wantErr: `format "": want "json"`},
		{name: "wrong version", in: `{"format":"json","version":2}` + "\n" + doc, wantErr: "version 2: want 1"},
		{name: "version as text", in: `{"format":"json","version":"1"}` + "\n" + doc, wantErr: `version "1": want 1`},
		{name: "missing version", in: `{"format":"json"}` + "\n" + doc, wantErr: "version missing: want 1"},
		{name: "empty document", in: `{"format":"json","version":1}` + "\n \n", wantErr: "no segment document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePacket([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.wantDoc {
				t.Fatalf("ParsePacket = %q, %v; want %q", got, err, tc.wantDoc)
			}
		})
	}
}
