// Package zipkin decodes spans as Zipkin reporters send them to
// POST /api/v2/spans: the JSON v2 model (a list of spans), into span
// records (see package traces).
//
// Zipkin's shared spans (a server span reusing its client's span id,
// "shared": true) get an id of their own derived from the shared one and
// the client span as parent, so the trace keeps both sides; the original
// id stays in attribute zipkin.span_id.
package zipkin

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/otelconv"
)

// ErrInvalidBody marks a body that is not a JSON list of spans.
var ErrInvalidBody = errors.New("invalid Zipkin body")

// SpanError says why one span of a list was refused.
type SpanError struct {
	Index int // position in the list, from 0
	Err   string
}

type endpoint struct {
	ServiceName string `json:"serviceName"`
	IPv4        string `json:"ipv4"`
	IPv6        string `json:"ipv6"`
	Port        int    `json:"port"`
}

type annotation struct {
	Timestamp int64  `json:"timestamp"`
	Value     string `json:"value"`
}

type span struct {
	TraceID        string            `json:"traceId"`
	ID             string            `json:"id"`
	ParentID       string            `json:"parentId"`
	Name           string            `json:"name"`
	Kind           string            `json:"kind"`
	Timestamp      int64             `json:"timestamp"` // µs
	Duration       int64             `json:"duration"`  // µs
	LocalEndpoint  *endpoint         `json:"localEndpoint"`
	RemoteEndpoint *endpoint         `json:"remoteEndpoint"`
	Annotations    []annotation      `json:"annotations"`
	Tags           map[string]string `json:"tags"`
	Shared         bool              `json:"shared"`
	Debug          bool              `json:"debug"`
}

// Span kinds, OpenTelemetry numbering.
var kinds = map[string]int8{"": 1, "CLIENT": 3, "SERVER": 2, "PRODUCER": 4, "CONSUMER": 5}

// Well-known Zipkin tags and their OpenTelemetry names; the original tags
// are kept too.
var tagNames = map[string]string{
	"http.method":      "http.request.method",
	"http.path":        "url.path",
	"http.url":         "url.full",
	"http.status_code": "http.response.status_code",
	"sql.query":        "db.statement",
}

// DecodeJSON decodes a JSON v2 span list. A span that cannot be stored
// (bad ids, an unknown kind, a negative time) is refused alone and
// reported in bad; err is non-nil only when the body is not a list of
// span objects at all.
func DecodeJSON(body []byte, now time.Time) (recs []eventstore.Record, bad []SpanError, err error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: want a JSON list of spans ([{\"traceId\": …, \"id\": …}, …]): %v", ErrInvalidBody, err)
	}
	recs = make([]eventstore.Record, 0, len(raw))
	for i, m := range raw {
		var s span
		if err := json.Unmarshal(m, &s); err != nil {
			bad = append(bad, SpanError{Index: i, Err: fmt.Sprintf("span %d: not a Zipkin v2 span: %v", i, err)})
			continue
		}
		rec, err := s.record(now.UnixNano())
		if err != nil {
			bad = append(bad, SpanError{Index: i, Err: fmt.Sprintf("span %d: %v", i, err)})
			continue
		}
		recs = append(recs, rec)
	}
	return recs, bad, nil
}

func (s *span) record(observed int64) (eventstore.Record, error) {
	var r eventstore.Record
	if err := parseHex(r.TraceID[:], s.TraceID, "traceId", true); err != nil {
		return r, err
	}
	if err := parseHex(r.SpanID[:], s.ID, "id", false); err != nil {
		return r, err
	}
	if s.ParentID != "" {
		if err := parseHex(r.ParentSpanID[:], s.ParentID, "parentId", false); err != nil {
			return r, err
		}
	}
	kind, ok := kinds[s.Kind]
	if !ok {
		return r, fmt.Errorf("kind %q: want CLIENT, SERVER, PRODUCER or CONSUMER, or none", s.Kind)
	}
	if s.Timestamp < 0 || s.Duration < 0 {
		return r, fmt.Errorf("timestamp %d and duration %d must not be negative", s.Timestamp, s.Duration)
	}
	r.Kind, r.Name, r.ObservedTime = kind, s.Name, observed
	r.Time, r.Duration = s.Timestamp*int64(time.Microsecond), s.Duration*int64(time.Microsecond)
	if r.Time == 0 {
		r.Time = observed
	}

	service := "unknown_service"
	if s.LocalEndpoint != nil && s.LocalEndpoint.ServiceName != "" {
		service = s.LocalEndpoint.ServiceName
	}
	r.Group = service
	r.Resource = []eventstore.Attr{{Key: "service.name", Value: eventstore.StringValue(service)}}
	if ip := s.LocalEndpoint.ip(); ip != "" {
		r.Resource = append(r.Resource, eventstore.Attr{Key: "host.ip", Value: eventstore.StringValue(ip)})
	}
	r.Stream = otelconv.StreamOf(r.Resource)

	if s.Shared && kind == 2 {
		r.Attributes = append(r.Attributes, eventstore.Attr{Key: "zipkin.shared", Value: eventstore.BoolValue(true)},
			eventstore.Attr{Key: "zipkin.span_id", Value: eventstore.StringValue(s.ID)})
		r.ParentSpanID, r.SpanID = r.SpanID, sharedID(r.SpanID, service)
	}
	if e := s.RemoteEndpoint; e != nil {
		if e.ServiceName != "" {
			r.Attributes = append(r.Attributes, eventstore.Attr{Key: "peer.service", Value: eventstore.StringValue(e.ServiceName)})
		}
		addr, port := "server.address", "server.port"
		if kind == 2 || kind == 5 {
			addr, port = "client.address", "client.port"
		}
		if ip := e.ip(); ip != "" {
			r.Attributes = append(r.Attributes, eventstore.Attr{Key: addr, Value: eventstore.StringValue(ip)})
		}
		if e.Port > 0 {
			r.Attributes = append(r.Attributes, eventstore.Attr{Key: port, Value: eventstore.IntValue(int64(e.Port))})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
		v := s.Tags[k]
		r.Attributes = append(r.Attributes, eventstore.Attr{Key: k, Value: eventstore.StringValue(v)})
		if k == "error" {
			r.StatusCode, r.StatusMessage = 2, v
			if v == "" || v == "true" {
				r.StatusMessage = "error"
			}
		}
		if name, ok := tagNames[k]; ok {
			val := eventstore.StringValue(v)
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && k == "http.status_code" {
				val = eventstore.IntValue(n)
			}
			r.Attributes = append(r.Attributes, eventstore.Attr{Key: name, Value: val})
		}
	}
	for _, a := range s.Annotations {
		r.Events = append(r.Events, eventstore.SpanEvent{Time: a.Timestamp * int64(time.Microsecond), Name: a.Value})
	}
	return r, nil
}

func (e *endpoint) ip() string {
	switch {
	case e == nil:
		return ""
	case e.IPv4 != "":
		return e.IPv4
	}
	return e.IPv6
}

// parseHex reads a hex id into dst, left-padding ids shorter than dst
// (Zipkin's 64-bit trace ids) when pad is set.
func parseHex(dst []byte, s, field string, pad bool) error {
	want := 2 * len(dst)
	if pad && (len(s) == 16 || len(s) == 32) {
		s = fmt.Sprintf("%0*s", want, s)
	}
	if len(s) != want {
		if pad {
			return fmt.Errorf("%s %q: want 16 or 32 hex digits", field, s)
		}
		return fmt.Errorf("%s %q: want 16 hex digits", field, s)
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("%s %q: not hexadecimal", field, s)
	}
	for _, b := range dst {
		if b != 0 {
			return nil
		}
	}
	return fmt.Errorf("%s %q is all zeros", field, s)
}

// sharedID derives the id of the server side of a shared span.
func sharedID(id [8]byte, service string) (out [8]byte) {
	h := fnv.New64a()
	h.Write(id[:])
	h.Write([]byte(service))
	copy(out[:], h.Sum(nil))
	return out
}
