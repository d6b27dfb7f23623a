package logs

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Field names NDJSON ingest recognises at the top level of a line, in
// priority order: the first present wins, the others stay attributes.
var (
	timeKeys    = []string{"@timestamp", "timestamp", "time"}
	messageKeys = []string{"message", "msg", "@message", "log"} // log: Docker json-file and Fluent Bit's tail input
	levelKeys   = []string{"level", "severity"}
	traceKeys   = []string{"trace_id", "traceId", "traceID"}
	spanKeys    = []string{"span_id", "spanId", "spanID"}
)

// maxFieldsPerRecord is the most attributes one NDJSON line may carry, as
// CloudWatch Logs Insights discovers at most 1000 fields per event.
const maxFieldsPerRecord = 1000

// LineError reports one input line that was not stored.
type LineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// decodeNDJSON turns newline-delimited JSON objects into records of group
// and stream, and returns the 1-based line number of each. Blank lines are
// skipped; a line that is not a JSON object is reported by its number while
// the others are decoded.
func decodeNDJSON(body, group, stream string, now time.Time) (recs []eventstore.Record, lines []int, errs []LineError) {
	n := strings.Count(body, "\n") + 1
	recs, lines = make([]eventstore.Record, 0, n), make([]int, 0, n)
	var scratch []eventstore.Attr
	forEachLine(body, func(n int, line string) {
		rec, err := decodeJSONLine(line, now, &scratch)
		if err != nil {
			errs = append(errs, LineError{Line: n, Error: err.Error()})
			return
		}
		rec.Group, rec.Stream = group, stream
		recs, lines = append(recs, rec), append(lines, n)
	})
	return recs, lines, errs
}

// decodeText makes one record per non-blank line, stamped now.
func decodeText(body, group, stream string, now time.Time) (recs []eventstore.Record, lines []int) {
	n := strings.Count(body, "\n") + 1
	recs, lines = make([]eventstore.Record, 0, n), make([]int, 0, n)
	ts := now.UnixNano()
	forEachLine(body, func(n int, line string) {
		recs = append(recs, eventstore.Record{Time: ts, ObservedTime: ts, Group: group, Stream: stream, Body: line})
		lines = append(lines, n)
	})
	return recs, lines
}

// forEachLine calls fn with each non-blank line (without its line ending)
// and its 1-based number.
func forEachLine(body string, fn func(n int, line string)) {
	for n := 1; body != ""; n++ {
		line, rest, _ := strings.Cut(body, "\n")
		body = rest
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) != "" {
			fn(n, line)
		}
	}
}

// decodeJSONLine turns one NDJSON line into a record. scratch is reused
// across lines; the record gets an attribute slice of exactly its size, as
// heads hold records until they are flushed.
func decodeJSONLine(line string, now time.Time, scratch *[]eventstore.Attr) (eventstore.Record, error) {
	attrs := (*scratch)[:0]
	err := eventstore.FlattenJSON(line, func(k string, v eventstore.Value) {
		attrs = append(attrs, eventstore.Attr{Key: k, Value: v})
	})
	*scratch = attrs
	if err != nil {
		return eventstore.Record{}, err
	}
	if len(attrs) > maxFieldsPerRecord {
		return eventstore.Record{}, fmt.Errorf("has %d fields, more than %d; nest less or split the record", len(attrs), maxFieldsPerRecord)
	}
	rec := eventstore.Record{ObservedTime: now.UnixNano()}
	if v, ok := take(&attrs, timeKeys); ok {
		t, err := parseTimestamp(v)
		if err != nil {
			return eventstore.Record{}, err
		}
		rec.Time = t
	} else {
		rec.Time = rec.ObservedTime
	}
	if v, ok := take(&attrs, messageKeys); ok {
		rec.Body = v.String()
	}
	if v, ok := take(&attrs, levelKeys); ok {
		rec.SeverityText = v.String()
		rec.SeverityNumber = severityNumber(rec.SeverityText)
	}
	if v, ok := take(&attrs, traceKeys); ok {
		if !decodeID(rec.TraceID[:], v.Str) {
			attrs = append(attrs, eventstore.Attr{Key: traceKeys[0], Value: v}) // keep what we cannot parse
		}
	}
	if v, ok := take(&attrs, spanKeys); ok {
		if !decodeID(rec.SpanID[:], v.Str) {
			attrs = append(attrs, eventstore.Attr{Key: spanKeys[0], Value: v})
		}
	}
	if len(attrs) > 0 {
		rec.Attributes = append(make([]eventstore.Attr, 0, len(attrs)), attrs...)
	}
	return rec, nil
}

// take removes and returns the first attribute named by keys, in order.
func take(attrs *[]eventstore.Attr, keys []string) (eventstore.Value, bool) {
	for _, k := range keys {
		for i, a := range *attrs {
			if a.Key == k {
				*attrs = append((*attrs)[:i], (*attrs)[i+1:]...)
				return a.Value, true
			}
		}
	}
	return eventstore.Value{}, false
}

// decodeID fills dst from a hex string of exactly its size.
func decodeID(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// parseTimestamp reads RFC 3339 text, or a Unix epoch number whose unit is
// guessed from its size (seconds, milliseconds, microseconds, nanoseconds).
func parseTimestamp(v eventstore.Value) (int64, error) {
	switch v.Kind {
	case eventstore.KindInt:
		return epochNanos(float64(v.Int), v.Int), nil
	case eventstore.KindFloat:
		return epochNanos(v.Float, int64(v.Float)), nil
	case eventstore.KindString:
		if t, err := time.Parse(time.RFC3339Nano, v.Str); err == nil {
			return t.UnixNano(), nil
		}
		if f, err := strconv.ParseFloat(v.Str, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			i, _ := strconv.ParseInt(v.Str, 10, 64)
			return epochNanos(f, i), nil
		}
	}
	return 0, fmt.Errorf("timestamp %q is neither RFC 3339 (2006-01-02T15:04:05.999Z) nor a Unix epoch number", truncate(v.String(), 64))
}

func epochNanos(f float64, i int64) int64 {
	exact := float64(i) == f // integral: scale without float rounding
	scale := func(unit int64) int64 {
		if exact {
			return i * unit
		}
		return int64(f * float64(unit))
	}
	switch abs := math.Abs(f); {
	case abs < 1e11: // seconds, until the year 5138
		return scale(1e9)
	case abs < 1e14:
		return scale(1e6)
	case abs < 1e17:
		return scale(1e3)
	}
	return scale(1)
}

// severityNumber maps a level name to OpenTelemetry's severity number.
func severityNumber(level string) int32 {
	var buf [16]byte
	if len(level) > len(buf) {
		return 0
	}
	switch string(bytes.ToUpper(append(buf[:0], level...))) {
	case "TRACE":
		return 1
	case "DEBUG":
		return 5
	case "INFO", "INFORMATION", "NOTICE":
		return 9
	case "WARN", "WARNING":
		return 13
	case "ERROR", "ERR":
		return 17
	case "FATAL", "CRITICAL", "CRIT", "PANIC", "EMERG", "ALERT":
		return 21
	}
	return 0
}
