package metrics

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

const (
	contentTypeV1 = "application/x-protobuf"
	contentTypeV2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
)

func series(name string, kv []string, samples ...prompb.Sample) prompb.TimeSeries {
	ls := []prompb.Label{{Name: "__name__", Value: name}}
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return prompb.TimeSeries{Labels: ls, Samples: samples}
}

func encodeV1(t testing.TB, ts ...prompb.TimeSeries) []byte {
	t.Helper()
	b, err := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func postWrite(e *Engine, id, contentType string, raw []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/write", bytes.NewReader(snappy.Encode(nil, raw)))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Content-Encoding", "snappy")
	return serve(e.RemoteWriteHandler(), withTenant(r, id))
}

func TestRemoteWriteV1StoresSamples(t *testing.T) {
	e := openTestEngine(t, nil)
	now := time.Now().UnixMilli()
	w := postWrite(e, "default", contentTypeV1, encodeV1(t,
		series("http_requests_total", []string{"job", "api"}, prompb.Sample{Timestamp: now - 1000, Value: 1}, prompb.Sample{Timestamp: now, Value: 5}),
		series("temperature", []string{"room", "lab"}, prompb.Sample{Timestamp: now, Value: 21.5}),
	))
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	got := instant(t, e, "default", `{__name__=~"http_requests_total|temperature"}`, time.UnixMilli(now))
	if got[`{__name__="http_requests_total", job="api"}`] != 5 || got[`{__name__="temperature", room="lab"}`] != 21.5 {
		t.Errorf("stored %v", got)
	}
}

func TestRemoteWritePartialWriteKeepsValidSamples(t *testing.T) {
	e := openTestEngine(t, func(string) Limits { return Limits{MaxLabelsPerSeries: 3} })
	now := time.Now().UnixMilli()
	w := postWrite(e, "default", contentTypeV1, encodeV1(t,
		series("good", []string{"a", "1"}, prompb.Sample{Timestamp: now, Value: 1}),
		series("too_many_labels", []string{"a", "1", "b", "2", "c", "3"}, prompb.Sample{Timestamp: now, Value: 2}),
		series("", []string{"a", "1"}, prompb.Sample{Timestamp: now, Value: 3}),
		series("late", nil, prompb.Sample{Timestamp: now, Value: 4}, prompb.Sample{Timestamp: now - 60_000, Value: 5}),
		series("future", nil, prompb.Sample{Timestamp: now + int64(time.Hour/time.Millisecond), Value: 6}),
	))
	if w.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
	}
	for _, want := range []string{"stored 2 samples, rejected 4", "max_labels_per_series", "invalid_labels", "out_of_order", "too_far_in_future", "too_many_labels"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("response %q lacks %q", w.Body, want)
		}
	}
	got := instant(t, e, "default", `{__name__=~"good|late|too_many_labels|future"}`, time.UnixMilli(now))
	if len(got) != 2 || got[`{__name__="good", a="1"}`] != 1 || got[`{__name__="late"}`] != 4 {
		t.Errorf("stored %v; want good=1 and late=4 only", got)
	}
}

func TestRemoteWriteV2WithMetadataAndNativeHistograms(t *testing.T) {
	e := openTestEngine(t, nil)
	now := time.Now().UnixMilli()
	symbols := []string{"", "__name__", "rpc_duration_seconds", "job", "api", "Latency", "seconds", "jobs_total"}
	h := &histogram.Histogram{Count: 3, Sum: 1.5, Schema: 0, ZeroThreshold: 0.001, PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{1, 1}}
	req := &writev2.Request{Symbols: symbols, Timeseries: []writev2.TimeSeries{
		{LabelsRefs: []uint32{1, 2, 3, 4}, Histograms: []writev2.Histogram{writev2.FromIntHistogram(0, now, h)},
			Metadata: writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_HISTOGRAM, HelpRef: 5, UnitRef: 6}},
		{LabelsRefs: []uint32{1, 7, 3, 4}, Samples: []writev2.Sample{{Value: 9, Timestamp: now}},
			Metadata: writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_COUNTER}},
	}}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w := postWrite(e, "default", contentTypeV2, raw)
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if w.Header().Get("X-Prometheus-Remote-Write-Samples-Written") != "1" || w.Header().Get("X-Prometheus-Remote-Write-Histograms-Written") != "1" {
		t.Errorf("written headers: %v", w.Header())
	}
	got := instant(t, e, "default", `histogram_count(rpc_duration_seconds) + on() group_left jobs_total`, time.UnixMilli(now))
	if len(got) != 1 {
		t.Fatalf("query result %v", got)
	}
	for _, v := range got {
		if v != 12 {
			t.Errorf("histogram_count + counter = %v, want 3+9", v)
		}
	}
}

func TestRemoteWriteV2BadSymbolRefIsRejectedNotFatal(t *testing.T) {
	e := openTestEngine(t, nil)
	now := time.Now().UnixMilli()
	req := &writev2.Request{Symbols: []string{"", "__name__", "ok"}, Timeseries: []writev2.TimeSeries{
		{LabelsRefs: []uint32{1, 99}, Samples: []writev2.Sample{{Value: 1, Timestamp: now}}},
		{LabelsRefs: []uint32{1, 2}, Samples: []writev2.Sample{{Value: 2, Timestamp: now}}},
	}}
	raw, _ := req.Marshal()
	w := postWrite(e, "default", contentTypeV2, raw)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "outside of symbols table") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got := instant(t, e, "default", "ok", time.UnixMilli(now)); got[`{__name__="ok"}`] != 2 {
		t.Errorf("valid series not stored: %v", got)
	}
}

func TestRemoteWriteSeriesLimit(t *testing.T) {
	e := openTestEngine(t, func(string) Limits { return Limits{MaxSeries: 2} })
	now := time.Now().UnixMilli()
	w := postWrite(e, "default", contentTypeV1, encodeV1(t,
		series("s1", nil, prompb.Sample{Timestamp: now, Value: 1}),
		series("s2", nil, prompb.Sample{Timestamp: now, Value: 1}),
		series("s3", nil, prompb.Sample{Timestamp: now, Value: 1}),
	))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "1 max_series") || !strings.Contains(w.Body.String(), "limits.max_series (2") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	// Existing series keep accepting samples.
	w = postWrite(e, "default", contentTypeV1, encodeV1(t, series("s1", nil, prompb.Sample{Timestamp: now + 1000, Value: 2})))
	if w.Code != http.StatusNoContent {
		t.Fatalf("existing series refused: %d %s", w.Code, w.Body)
	}
}

func TestRemoteWriteRateLimit(t *testing.T) {
	e := openTestEngine(t, func(string) Limits { return Limits{SamplesPerSecond: 1, BurstSamples: 3} })
	now := time.Now().UnixMilli()
	batch := func(name string, n int) []byte {
		var ss []prompb.Sample
		for i := 0; i < n; i++ {
			ss = append(ss, prompb.Sample{Timestamp: now - int64(n-i), Value: float64(i)})
		}
		return encodeV1(t, series(name, nil, ss...))
	}
	if w := postWrite(e, "default", contentTypeV1, batch("first", 3)); w.Code != http.StatusNoContent {
		t.Fatalf("first batch: %d %s", w.Code, w.Body)
	}
	w := postWrite(e, "default", contentTypeV1, batch("second", 2))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "limits.ingest_samples_per_second") {
		t.Fatalf("over the rate: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if got := instant(t, e, "default", "second", time.UnixMilli(now)); len(got) != 0 {
		t.Errorf("rate-limited request stored %v", got)
	}
	if w := postWrite(e, "default", contentTypeV1, batch("huge", 4)); w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "ingest_burst_samples") {
		t.Fatalf("batch above the burst: %d %s", w.Code, w.Body)
	}
	// Another tenant has its own budget.
	if w := postWrite(e, "other", contentTypeV1, batch("second", 2)); w.Code != http.StatusNoContent {
		t.Fatalf("other tenant limited by the first's traffic: %d %s", w.Code, w.Body)
	}
}

func TestRemoteWriteBadRequests(t *testing.T) {
	e := openTestEngine(t, func(string) Limits { return Limits{MaxBodyBytes: 4096} })
	big := encodeV1(t, series("x", []string{"pad", strings.Repeat("a", 8000)}, prompb.Sample{Timestamp: 1, Value: 1}))
	for _, c := range []struct {
		name, contentType, encoding string
		body                        []byte
		status                      int
		want                        string
	}{
		{"garbage", contentTypeV1, "snappy", snappy.Encode(nil, []byte("not protobuf at all")), 400, "decode remote write 1.0"},
		{"not snappy", contentTypeV1, "snappy", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 400, "snappy"},
		{"gzip", contentTypeV1, "gzip", []byte("x"), 415, "snappy"},
		{"json", "application/json", "snappy", snappy.Encode(nil, []byte("{}")), 415, "application/x-protobuf"},
		{"compressed body too large", contentTypeV1, "snappy", bytes.Repeat([]byte{1}, 5000), 413, "limits.max_request_body_bytes (4096"},
		{"decoded body too large", contentTypeV1, "snappy", snappy.Encode(nil, big), 413, "decompressed request body exceeds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/write", bytes.NewReader(c.body))
			r.Header.Set("Content-Type", c.contentType)
			r.Header.Set("Content-Encoding", c.encoding)
			w := serve(e.RemoteWriteHandler(), withTenant(r, "default"))
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
				t.Fatalf("got %d %q, want %d containing %q", w.Code, w.Body, c.status, c.want)
			}
		})
	}
}

func FuzzRemoteWriteV1(f *testing.F) {
	f.Add(encodeV1(f, series("up", []string{"job", "a"}, prompb.Sample{Timestamp: 1000, Value: 1})))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	e := openTestEngine(f, func(string) Limits { return Limits{MaxLabelsPerSeries: 30, MaxLabelValueLength: 1024} })
	db, err := e.tenant("fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := writeV1(context.Background(), db, body)
		var de decodeError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("input that decodes must be stored or rejected sample by sample, got %v", err)
		}
	})
}

func FuzzRemoteWriteV2(f *testing.F) {
	seed, _ := (&writev2.Request{Symbols: []string{"", "__name__", "up"}, Timeseries: []writev2.TimeSeries{
		{LabelsRefs: []uint32{1, 2}, Samples: []writev2.Sample{{Value: 1, Timestamp: 1000}}, Exemplars: []writev2.Exemplar{{LabelsRefs: []uint32{1, 2}, Value: 1, Timestamp: 1000}}},
	}}).Marshal()
	f.Add(seed)
	f.Add([]byte{})
	e := openTestEngine(f, func(string) Limits { return Limits{MaxLabelsPerSeries: 30, MaxLabelValueLength: 1024} })
	db, err := e.tenant("fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := writeV2(context.Background(), db, body)
		var de decodeError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("input that decodes must be stored or rejected series by series, got %v", err)
		}
	})
}

func TestRemoteWriteOutOfOrderWindowAcceptsLateSamples(t *testing.T) {
	e, err := Open(context.Background(), Options{Dir: t.TempDir(), RetentionTime: time.Hour, OutOfOrderWindow: 10 * time.Minute,
		QueryTimeout: time.Minute, QueryMaxSamples: 1000, QueryMaxConcurrency: 1, LookbackDelta: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	now := time.Now().UnixMilli()
	w := postWrite(e, "default", contentTypeV1, encodeV1(t, series("late", nil, prompb.Sample{Timestamp: now, Value: 1}, prompb.Sample{Timestamp: now - 60_000, Value: 2})))
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got := instant(t, e, "default", "count_over_time(late[5m])", time.UnixMilli(now)); got["{}"] != 2 {
		t.Errorf("count_over_time = %v, want both samples", got)
	}
}
