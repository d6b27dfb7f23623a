package loki

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
)

// protoBody encodes a push request with Loki's own message definitions, as
// promtail and Alloy do.
func protoBody(t testing.TB, req *push.PushRequest) []byte {
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

func TestDecodeProtobuf(t *testing.T) {
	body := protoBody(t, &push.PushRequest{Streams: []push.Stream{
		{Labels: `{service_name="checkout", level="error", env="prod"}`, Entries: []push.Entry{
			{Timestamp: t0, Line: "payment declined", StructuredMetadata: push.LabelsAdapter{{Name: "trace_id", Value: "abc"}}},
			{Timestamp: t0.Add(time.Second), Line: "retrying"},
		}},
		{Labels: `{job="nginx"}`, Entries: []push.Entry{{Timestamp: t0, Line: "GET /"}}},
	}})
	streams, err := Decode(body, "application/x-protobuf", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 2 || streams[0].Labels.Get("service_name") != "checkout" || streams[0].Labels.Get("env") != "prod" || len(streams[0].Entries) != 2 {
		t.Fatalf("streams %+v", streams)
	}
	e := streams[0].Entries[0]
	if !e.Time.Equal(t0) || e.Line != "payment declined" || e.Metadata.Get("trace_id") != "abc" {
		t.Errorf("entry %+v", e)
	}
	if _, err := Decode(body, "application/x-protobuf", 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestDecodeJSON(t *testing.T) {
	body := `{"streams":[{"stream":{"service_name":"api","level":"info"},"values":[
		["1763805600123456789","GET /cart 200"],
		["1763805601000000000","slow query",{"trace_id":"0af7651916cd43dd8448eb211c80319c","duration":"1.2s"}]]}]}`
	streams, err := Decode([]byte(body), "application/json; charset=utf-8", 0)
	if err != nil {
		t.Fatal(err)
	}
	es := streams[0].Entries
	if len(es) != 2 || es[0].Time.UnixNano() != 1763805600123456789 || es[1].Metadata.Get("duration") != "1.2s" || streams[0].Labels.Get("level") != "info" {
		t.Errorf("%+v", streams)
	}
}

func TestDecodeErrorsSayWhatToFix(t *testing.T) {
	for _, c := range []struct {
		body, ct, want string
	}{
		{"not snappy at all", "application/x-protobuf", "snappy"},
		{string(snappy.Encode(nil, []byte{0xff, 0xff, 0xff})), "application/x-protobuf", "PushRequest"},
		{string(protoBody(t, &push.PushRequest{Streams: []push.Stream{{Labels: `{job=}`}}})), "application/x-protobuf", "streams[0].labels"},
		{`{"streams":[{"stream":{},"values":[]}]}`, "application/json", "at least one label"},
		{`{"streams":[{"stream":{"a-b":"x"},"values":[]}]}`, "application/json", "not a valid label name"},
		{`{"streams":[{"stream":{"job":"x"},"values":[["yesterday","x"]]}]}`, "application/json", "streams[0].values[0]: timestamp"},
		{`{"streams":[{"stream":{"job":"x"},"values":[["1","x","y","z"]]}]}`, "application/json", "got 4 elements"},
		{`{"streams":`, "application/json", "JSON push format"},
		{`x`, "text/plain", "unsupported Content-Type"},
	} {
		_, err := Decode([]byte(c.body), c.ct, 0)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q (%s): %v, want ErrInvalid mentioning %q", c.body, c.ct, err, c.want)
		}
	}
}

func FuzzDecodeProto(f *testing.F) {
	f.Add(protoBody(f, &push.PushRequest{Streams: []push.Stream{{Labels: `{a="b"}`, Entries: []push.Entry{{Timestamp: t0, Line: "x", StructuredMetadata: push.LabelsAdapter{{Name: "k", Value: "v"}}}}}}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		streams, err := Decode(body, "application/x-protobuf", 1<<20)
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("unexpected error %v", err)
		}
		for _, s := range streams {
			_ = s.Labels.String()
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"streams":[{"stream":{"job":"x"},"values":[["1","line",{"k":"v"}]]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := Decode(body, "application/json", 0); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
