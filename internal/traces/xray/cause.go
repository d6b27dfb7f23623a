package xray

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// appendCause maps a segment's cause: an exception id (16 hex digits, an
// exception recorded elsewhere in the trace) becomes attribute
// aws.xray.cause_id; an object becomes one "exception" event per exception
// at the span's start, with OpenTelemetry's exception.* attributes. It
// returns the first non-empty exception message, the span's status message.
func appendCause(a *[]eventstore.Attr, raw json.RawMessage, start int64) ([]eventstore.SpanEvent, string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "", nil
	}
	switch raw[0] {
	case '"':
		var id string
		if err := json.Unmarshal(raw, &id); err != nil {
			return nil, "", err
		}
		if _, err := ParseSegmentID(id); err != nil {
			return nil, "", fmt.Errorf("exception id %v", err)
		}
		*a = append(*a, eventstore.Attr{Key: "aws.xray.cause_id", Value: eventstore.StringValue(id)})
		return nil, "", nil
	case '{':
	default:
		return nil, "", errors.New("want an exception id (16 hex digits) or an object with exceptions")
	}
	var c causeData
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", errors.New(jsonError(err))
	}
	ca := (*attrs)(a)
	ca.str("aws.xray.cause.working_directory", c.WorkingDirectory)
	if len(c.Paths) > 0 {
		ca.str("aws.xray.cause.paths", jsonStrings(c.Paths))
	}
	if len(c.Exceptions) == 0 {
		return nil, "", nil
	}
	events := make([]eventstore.SpanEvent, 0, len(c.Exceptions))
	var first string
	for i := range c.Exceptions {
		x := &c.Exceptions[i]
		var ea attrs
		ea.str("exception.type", x.Type)
		ea.str("exception.message", x.Message)
		ea.str("exception.stacktrace", stackText(x))
		ea.str("exception.id", x.ID)
		ea.flag("aws.xray.exception.remote", x.Remote)
		ea.number("aws.xray.exception.truncated", x.Truncated)
		ea.number("aws.xray.exception.skipped", x.Skipped)
		ea.str("aws.xray.exception.cause", x.Cause)
		events = append(events, eventstore.SpanEvent{Time: start, Name: "exception", Attributes: ea})
		if first == "" {
			first = x.Message
		}
	}
	return events, first, nil
}

// stackText prints a stack one frame a line, "label (path:line)".
func stackText(x *exceptionData) string {
	if len(x.Stack) == 0 {
		return ""
	}
	var b strings.Builder
	for i, f := range x.Stack {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(f.Label)
		if f.Path == "" && f.Line == "" {
			continue
		}
		if f.Label != "" {
			b.WriteByte(' ')
		}
		b.WriteByte('(')
		b.WriteString(f.Path)
		if f.Line != "" {
			b.WriteByte(':')
			b.WriteString(string(f.Line))
		}
		b.WriteByte(')')
	}
	return b.String()
}
