package xray

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Limits of the segment format.
const (
	// MaxDocumentBytes is the largest segment document X-Ray accepts.
	MaxDocumentBytes = 64 << 10
	// MaxNameLength is the longest segment or subsegment name, in characters.
	MaxNameLength = 200
)

// UnknownService is the service of standalone subsegments whose parent is
// unknown, as the OpenTelemetry SDKs name a service that names none.
const UnknownService = "unknown_service"

// homeCacheEntries bounds the ids a Decoder remembers.
const homeCacheEntries = 100_000

// Span kinds and statuses, OpenTelemetry numbering as in package traces.
const (
	kindInternal int8 = 1
	kindServer   int8 = 2
	kindClient   int8 = 3
	statusError  int8 = 2
)

// A Decoder turns segment documents into span records. It remembers the
// service of every segment and subsegment it decoded (the last 100k or so)
// so standalone subsegments, which name no service, land in their
// segment's. It is safe for concurrent use; use one per tenant so one
// tenant's ids never resolve another's.
type Decoder struct {
	homes *homeCache
}

// NewDecoder returns a Decoder with an empty id cache.
func NewDecoder() *Decoder { return &Decoder{homes: newHomeCache(homeCacheEntries)} }

// Decode reads one segment document — a segment with its nested
// subsegments, a standalone subsegment (type "subsegment", with trace_id and
// parent_id), or a JSON array of those — into one record per segment and
// subsegment, parents before children. now is the observed time. The
// records share their Resource slices. On error no record is returned and
// the error is a *DocumentError.
func (d *Decoder) Decode(doc []byte, now time.Time) ([]eventstore.Record, error) {
	if len(doc) > MaxDocumentBytes {
		return nil, docErrorf("", CodeInvalidSegment, "segment document is %d bytes, over X-Ray's limit of %d (64 KiB): send large segments' subsegments as standalone subsegments", len(doc), MaxDocumentBytes)
	}
	observed := now.UnixNano()
	doc = bytes.TrimLeft(doc, " \t\r\n")
	if len(doc) > 0 && doc[0] == '[' {
		var es []entity
		if err := json.Unmarshal(doc, &es); err != nil {
			return nil, docErrorf("", CodeInvalidSegment, "segment document: %v", jsonError(err))
		}
		var out []eventstore.Record
		for i := range es {
			var err error
			if out, err = d.decodeTop(out, &es[i], observed); err != nil {
				return nil, err
			}
		}
		if len(out) == 0 {
			return nil, docErrorf("", CodeInvalidSegment, "segment document: empty array, want a segment or subsegments")
		}
		return out, nil
	}
	var e entity
	if err := json.Unmarshal(doc, &e); err != nil {
		return nil, docErrorf("", CodeInvalidSegment, "segment document: %v", jsonError(err))
	}
	return d.decodeTop(nil, &e, observed)
}

// jsonError drops encoding/json's Go type names, which mean nothing to a
// client, from type errors.
func jsonError(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		if te.Field != "" {
			return "field " + te.Field + ": a JSON " + te.Value + " is not allowed here"
		}
		return "want a JSON " + jsonKind(te.Type) + ", got a " + te.Value
	}
	if se, ok := err.(*json.SyntaxError); ok {
		return "invalid JSON at byte " + itoa(se.Offset) + ": " + se.Error()
	}
	return err.Error()
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		if t == reflect.TypeFor[json.Number]() {
			return "number"
		}
		return "string"
	case reflect.Bool:
		return "boolean"
	}
	return "number"
}

// decodeTop decodes a top-level segment or standalone subsegment and
// remembers the home of its spans.
func (d *Decoder) decodeTop(out []eventstore.Record, e *entity, observed int64) ([]eventstore.Record, error) {
	standalone := false
	switch e.Type {
	case "":
	case "subsegment":
		standalone = true
	default:
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: type %q: want \"subsegment\" for a standalone subsegment, or no type for a segment", describe(e, false), e.Type)
	}
	what := describe(e, standalone)
	if e.TraceID == "" {
		return nil, docErrorf(e.ID, CodeInvalidTraceID, "%s: trace_id is required", what)
	}
	traceID, err := ParseTraceID(e.TraceID)
	if err != nil {
		return nil, docErrorf(e.ID, CodeInvalidTraceID, "%s: %v", what, err)
	}
	var parent [8]byte
	if e.ParentID != "" {
		if parent, err = ParseSegmentID(e.ParentID); err != nil {
			return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: parent_id %v", what, err)
		}
	} else if standalone {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: parent_id is required for a standalone subsegment (the id of its segment or parent subsegment)", what)
	}

	s := spanContext{traceID: traceID, observed: observed}
	start := len(out)
	if standalone {
		s.home = d.homes.get(homeKey{traceID, parent})
		if s.home == nil {
			s.home, s.orphan = unknownHome, true
		}
		out, err = s.appendSpans(out, e, parent, kindOf(e.Namespace), false)
	} else {
		if s.home, err = segmentHome(e); err != nil {
			return nil, err
		}
		out, err = s.appendSpans(out, e, parent, kindServer, true)
	}
	if err != nil {
		return nil, err
	}
	if !s.orphan {
		d.homes.putAll(out[start:], s.home)
	}
	return out, nil
}

// spanContext is what the spans of one top-level entity share.
type spanContext struct {
	traceID  [16]byte
	observed int64
	home     *home
	orphan   bool // standalone subsegment whose parent is unknown
}

func kindOf(namespace string) int8 {
	if namespace == "aws" || namespace == "remote" {
		return kindClient
	}
	return kindInternal
}

func describe(e *entity, subsegment bool) string {
	what := "segment"
	if subsegment {
		what = "subsegment"
	}
	if e.ID == "" {
		return what
	}
	return what + " " + e.ID
}

// appendSpans appends the record of e and, recursively, of its
// subsegments.
func (s *spanContext) appendSpans(out []eventstore.Record, e *entity, parent [8]byte, kind int8, isSegment bool) ([]eventstore.Record, error) {
	what := describe(e, !isSegment)
	if e.ID == "" {
		return nil, docErrorf("", CodeInvalidSegment, "%s: id is required (16 hex digits)", what)
	}
	spanID, err := ParseSegmentID(e.ID)
	if err != nil {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: id %v", what, err)
	}
	if e.Name == "" {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: name is required", what)
	}
	if n := utf8.RuneCountInString(e.Name); n > MaxNameLength {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: name is %d characters, at most %d are allowed", what, n, MaxNameLength)
	}
	if e.StartTime == "" {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: start_time is required (epoch seconds, e.g. 1480615200.010)", what)
	}
	start, err := parseEpochSeconds(string(e.StartTime))
	if err != nil {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: start_time %v", what, err)
	}
	if start == 0 {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: start_time is 0: want epoch seconds, e.g. 1480615200.010", what)
	}
	var end int64
	if e.EndTime != "" {
		if end, err = parseEpochSeconds(string(e.EndTime)); err != nil {
			return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: end_time %v", what, err)
		}
	}
	if end == 0 && !e.InProgress {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: end_time is required, or in_progress: true for a segment not yet complete", what)
	}

	rec := eventstore.Record{
		Time:         start,
		ObservedTime: s.observed,
		Group:        s.home.service,
		Stream:       s.home.stream,
		Resource:     s.home.resource,
		TraceID:      s.traceID,
		SpanID:       spanID,
		ParentSpanID: parent,
		Name:         e.Name,
		Kind:         kind,
	}
	if !e.InProgress {
		rec.Duration = max(end-start, 0)
	}
	if rec.Attributes, err = spanAttributes(e, kind, isSegment, s.orphan); err != nil {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: %v", what, err)
	}
	var firstMessage string
	if rec.Events, firstMessage, err = appendCause(&rec.Attributes, e.Cause, start); err != nil {
		return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: cause: %v", what, err)
	}
	if e.Fault || e.Error {
		rec.StatusCode = statusError
		switch {
		case firstMessage != "":
			rec.StatusMessage = firstMessage
		case e.Fault:
			rec.StatusMessage = "fault"
		default:
			rec.StatusMessage = "error"
		}
	}
	out = append(out, rec)
	for i := range e.Subsegments {
		sub := &e.Subsegments[i]
		if out, err = s.appendSpans(out, sub, spanID, kindOf(sub.Namespace), false); err != nil {
			return nil, err
		}
	}
	return out, nil
}
