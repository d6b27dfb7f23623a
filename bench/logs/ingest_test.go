package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

func TestDecodeIngestReply(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		accepted  int64
		rejected  int64
		errorList int
		wantErr   bool
	}{
		{"all accepted", `{"accepted":2000,"rejected":0,"errors":[]}`, 2000, 0, 0, false},
		{"some rejected", `{"accepted":1,"rejected":1,"errors":[{"line":2,"reason":"too_large","error":"record exceeds 1MiB"}]}`, 1, 1, 1, false},
		{"counts missing", `{"error":"query parameter group is required"}`, 0, 0, 0, true},
		{"negative", `{"accepted":-1,"rejected":0}`, 0, 0, 0, true},
		{"not JSON", `<html>502</html>`, 0, 0, 0, true},
		{"wrong types", `{"accepted":"many","rejected":0}`, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeIngestReply([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (r.Accepted != tt.accepted || r.Rejected != tt.rejected || len(r.Errors) != tt.errorList) {
				t.Errorf("reply = %+v", r)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"3600", time.Minute, true},
		{"Sun, 22 Nov 2026 12:00:05 GMT", 5 * time.Second, true},
		{"Sun, 22 Nov 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// fakeNDJSONServer answers like POST /api/v1/logs/ingest: it counts lines,
// rejects those whose level is ERROR, and throttles its first request.
func fakeNDJSONServer(t *testing.T, calls *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
			return
		}
		if r.URL.Path != "/api/v1/logs/ingest" || r.URL.Query().Get("group") == "" || r.URL.Query().Get("stream") == "" ||
			r.Header.Get("Content-Type") != "application/x-ndjson" {
			http.Error(w, "bad request shape: "+r.URL.String(), http.StatusBadRequest)
			return
		}
		type lineErr struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
			Error  string `json:"error"`
		}
		reply := struct {
			Accepted int       `json:"accepted"`
			Rejected int       `json:"rejected"`
			Errors   []lineErr `json:"errors"`
		}{Errors: []lineErr{}}
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("line %d is not JSON: %v", n, err)
			}
			if m["level"] == "ERROR" {
				reply.Rejected++
				reply.Errors = append(reply.Errors, lineErr{n, "test", "errors refused"})
			} else {
				reply.Accepted++
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(reply)
	}))
}

func TestIngesterSendsEveryRequestAndCountsTheReplies(t *testing.T) {
	var calls atomic.Int64
	srv := fakeNDJSONServer(t, &calls)
	defer srv.Close()
	gen := GeneratorConfig{Seed: 1, Start: testStart, Rate: 1000}
	g := NewGenerator(gen)
	wl := &workload{gen: gen, proto: protoNDJSON, from: 0, to: 5000, batch: 40, workers: 2, hist: newHistogram(g.TimeOf(0), g.TimeOf(4999))}
	reqs := make(chan request, wl.maxRequests(len(g.Buckets())))
	if err := wl.produce(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	close(reqs)
	var errors int64
	var r Record
	for i := range int64(5000) {
		if g.Record(i, &r); r.Level == LevelError {
			errors++
		}
	}
	in := newIngester(srv.Client(), protoNDJSON, srv.URL, "", g.Buckets(), false, 3)
	var progress atomic.Int64
	out, err := in.run(context.Background(), reqs, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if out.Records != 5000 || progress.Load() != 5000 || out.Accepted != 5000-errors || out.Rejected != errors {
		t.Errorf("records %d, progress %d, accepted %d, rejected %d; want 5000 with %d rejected", out.Records, progress.Load(), out.Accepted, out.Rejected, errors)
	}
	if out.Throttled != 1 || int64(out.Requests) != calls.Load()-1 || len(out.latencies) != out.Requests {
		t.Errorf("throttled %d, requests %d, calls %d, latencies %d", out.Throttled, out.Requests, calls.Load(), len(out.latencies))
	}
	if errors > 0 && (len(out.Rejections) == 0 || !strings.Contains(out.Rejections[0], "errors refused")) {
		t.Errorf("rejections %q do not quote the server", out.Rejections)
	}
}

func TestIngesterStopsAtAServerErrorAndQuotesIt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "head is full, try later", http.StatusInternalServerError)
	}))
	defer srv.Close()
	reqs := make(chan request, 10)
	for i := range 10 {
		reqs <- request{body: []byte("{}\n"), records: 1, bucket: 0, first: int64(i)}
	}
	close(reqs)
	in := newIngester(srv.Client(), protoNDJSON, srv.URL, "", [][2]string{{"checkout", "pod-1"}}, false, 2)
	var progress atomic.Int64
	_, err := in.run(context.Background(), reqs, &progress)
	if err == nil {
		t.Fatal("a 500 answer was not an error")
	}
	for _, want := range []string{"POST " + srv.URL + "/api/v1/logs/ingest?group=checkout&stream=pod-1", "500 Internal Server Error", "head is full, try later"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestIngesterReadsOTLPPartialSuccess(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := plogotlp.NewExportRequest()
		if r.URL.Path != "/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "wrong path or type", http.StatusBadRequest)
			return
		}
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got.Add(int64(req.Logs().LogRecordCount()))
		resp := plogotlp.NewExportResponse()
		resp.PartialSuccess().SetRejectedLogRecords(1)
		resp.PartialSuccess().SetErrorMessage("one record too old")
		out, _ := resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer srv.Close()
	g := NewGenerator(GeneratorConfig{Seed: 2, Start: testStart, Rate: 1000})
	recs := make([]Record, 10)
	for i := range recs {
		g.Record(int64(i), &recs[i])
	}
	body, err := encodeOTLP(recs)
	if err != nil {
		t.Fatal(err)
	}
	reqs := make(chan request, 1)
	reqs <- request{body: body, records: 10, bucket: -1}
	close(reqs)
	in := newIngester(srv.Client(), protoOTLP, srv.URL, srv.URL, g.Buckets(), false, 1)
	var progress atomic.Int64
	out, err := in.run(context.Background(), reqs, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if got.Load() != 10 || out.Accepted != 9 || out.Rejected != 1 || len(out.Rejections) != 1 || !strings.Contains(out.Rejections[0], "one record too old") {
		t.Errorf("server got %d; outcome %+v", got.Load(), out)
	}
}

func FuzzDecodeIngestReply(f *testing.F) {
	for _, s := range []string{`{"accepted":1,"rejected":0,"errors":[]}`, `{"accepted":0,"rejected":2,"errors":[{"line":1,"reason":"r","error":"e"}]}`, `{}`, `[]`, `null`, `{"accepted":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeIngestReply(body)
		if err == nil && (r.Accepted < 0 || r.Rejected < 0) {
			t.Errorf("accepted negative counts: %+v", r)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Sun, 22 Nov 2026 12:00:05 GMT", "", "-5", "9999999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := parseRetryAfter(v, now); ok && (d < 0 || d > time.Minute) {
			t.Errorf("parseRetryAfter(%q) = %s, outside [0, 1m]", v, d)
		}
	})
}

func FuzzDecodeOTLPResponse(f *testing.F) {
	resp := plogotlp.NewExportResponse()
	resp.PartialSuccess().SetRejectedLogRecords(3)
	resp.PartialSuccess().SetErrorMessage("too old")
	seed, _ := resp.MarshalProto()
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, _ = decodeOTLPResponse(body)
	})
}

func TestQuoteLimitsLongBodies(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 5000)
	if q := quote(long); len(q) > 1100 || !strings.Contains(q, fmt.Sprintf("(%d bytes)", 5000)) {
		t.Errorf("quote of 5000 bytes = %d bytes: %.80s…", len(q), q)
	}
}
