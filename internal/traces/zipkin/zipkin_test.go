package zipkin

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// reporterBody is shaped like what zipkin-go's HTTP reporter and Brave
// send: a client span and the server span that shares its id, a local
// span, 64-bit and 128-bit trace ids.
const reporterBody = `[
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","kind":"CLIENT","name":"get /api","timestamp":1472470996199000,"duration":207000,
 "localEndpoint":{"serviceName":"frontend","ipv4":"127.0.0.1"},"remoteEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},
 "annotations":[{"timestamp":1472470996238000,"value":"ws"},{"timestamp":1472470996403000,"value":"wr"}],
 "tags":{"http.method":"GET","http.path":"/api","clnt/finagle.version":"6.45.0"}},
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","kind":"SERVER","name":"get /api","timestamp":1472470996250000,"duration":150000,"shared":true,
 "localEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},"remoteEndpoint":{"ipv4":"172.19.0.2","port":58648},
 "tags":{"http.status_code":"500","error":"Internal Server Error"}},
{"traceId":"80f1da5e10147517","parentId":"352bff9a74ca9ad2","id":"bd7a977555f6b982","name":"compute","timestamp":1472470996260000,"duration":50,
 "localEndpoint":{"serviceName":"backend"},"tags":{"lc":"compute"},"debug":true}
]`

func attr(attrs []eventstore.Attr, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return "<none>"
}

func TestDecodeReporterPayload(t *testing.T) {
	now := time.Now()
	recs, bad, err := DecodeJSON([]byte(reporterBody), now)
	if err != nil || len(bad) != 0 || len(recs) != 3 {
		t.Fatalf("%d records, bad %v, err %v", len(recs), bad, err)
	}
	client, server, local := recs[0], recs[1], recs[2]
	if hex.EncodeToString(client.TraceID[:]) != "5982fe77008310cc80f1da5e10147517" || hex.EncodeToString(client.SpanID[:]) != "352bff9a74ca9ad2" ||
		client.Kind != 3 || client.Group != "frontend" || client.Name != "get /api" ||
		client.Time != time.UnixMicro(1472470996199000).UnixNano() || client.Duration != int64(207*time.Millisecond) || client.ObservedTime != now.UnixNano() {
		t.Errorf("client span %+v", client)
	}
	for k, want := range map[string]string{"peer.service": "backend", "server.address": "192.168.99.101", "server.port": "9000",
		"http.method": "GET", "http.request.method": "GET", "url.path": "/api", "clnt/finagle.version": "6.45.0"} {
		if got := attr(client.Attributes, k); got != want {
			t.Errorf("client %s = %q, want %q", k, got, want)
		}
	}
	if len(client.Events) != 2 || client.Events[0].Name != "ws" || client.Events[1].Time != time.UnixMicro(1472470996403000).UnixNano() {
		t.Errorf("annotations: %+v", client.Events)
	}
	if attr(client.Resource, "host.ip") != "127.0.0.1" || client.Stream != "frontend" {
		t.Errorf("client resource %v stream %q", client.Resource, client.Stream)
	}
	// The shared server span becomes the client span's child.
	if server.ParentSpanID != client.SpanID || server.SpanID == client.SpanID || server.Kind != 2 || server.Group != "backend" ||
		attr(server.Attributes, "zipkin.span_id") != "352bff9a74ca9ad2" || attr(server.Attributes, "client.address") != "172.19.0.2" {
		t.Errorf("server span %+v", server)
	}
	if server.StatusCode != 2 || server.StatusMessage != "Internal Server Error" || attr(server.Attributes, "http.response.status_code") != "500" {
		t.Errorf("server status %d %q", server.StatusCode, server.StatusMessage)
	}
	for _, a := range server.Attributes {
		if a.Key == "http.response.status_code" && a.Value.Kind != eventstore.KindInt {
			t.Errorf("http.response.status_code is %v, want an integer", a.Value)
		}
	}
	// A 64-bit trace id is left-padded; no kind is a local (internal) span.
	if hex.EncodeToString(local.TraceID[:]) != "000000000000000080f1da5e10147517" || local.Kind != 1 || local.Duration != 50_000 || local.ParentSpanID != client.SpanID {
		t.Errorf("local span %+v", local)
	}
}

func TestBadSpansAreRefusedAlone(t *testing.T) {
	body := `[
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","name":"ok"},
{"traceId":"xyz","id":"352bff9a74ca9ad2"},
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"0000000000000000"},
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","kind":"SIDEWAYS"},
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","duration":-5},
"not a span",
{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a"}
]`
	recs, bad, err := DecodeJSON([]byte(body), time.Now())
	if err != nil || len(recs) != 1 || recs[0].Name != "ok" {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	want := []string{"traceId \"xyz\"", "all zeros", "kind \"SIDEWAYS\"", "negative", "not a Zipkin v2 span", "want 16 hex digits"}
	if len(bad) != len(want) {
		t.Fatalf("bad: %+v", bad)
	}
	for i, b := range bad {
		if b.Index != i+1 || !strings.Contains(b.Err, want[i]) {
			t.Errorf("bad[%d] = %+v, want index %d mentioning %q", i, b, i+1, want[i])
		}
	}
	for _, body := range []string{``, `{}`, `[`, `null x`} {
		if _, _, err := DecodeJSON([]byte(body), time.Now()); err == nil {
			t.Errorf("%q: accepted", body)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(reporterBody))
	f.Add([]byte(`[{"traceId":"1","id":"1"}]`))
	f.Add([]byte(`[{"traceId":"5982fe77008310cc80f1da5e10147517","id":"352bff9a74ca9ad2","shared":true,"kind":"SERVER","tags":{"error":""}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, bad, err := DecodeJSON(body, time.Unix(1, 0))
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.TraceID == ([16]byte{}) || r.SpanID == ([8]byte{}) || r.Group == "" || r.Duration < 0 || r.Time <= 0 {
				t.Fatalf("record %+v from %q", r, body)
			}
		}
		for _, b := range bad {
			if b.Err == "" {
				t.Fatalf("empty error from %q", body)
			}
		}
	})
}
