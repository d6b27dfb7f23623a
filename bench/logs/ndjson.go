package main

import (
	"strconv"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// appendNDJSON appends r as one line of the NDJSON ingest format, newline
// included, the way a JSON logger and a shipper write it: @timestamp (RFC
// 3339, milliseconds, UTC), level, message, the service and host a
// shipper adds, the trace context, then the attributes with their JSON
// types. It allocates nothing when b has room.
func appendNDJSON(b []byte, r *Record) []byte {
	b = append(b, `{"@timestamp":"`...)
	b = time.Unix(0, r.Time).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","level":"`...)
	b = append(b, levelNames[r.Level]...)
	b = append(b, `","message":`...)
	b = eventstore.AppendJSONString(b, r.message())
	b = append(b, `,"service.name":"`...)
	b = append(b, r.Service...)
	b = append(b, `","host.name":"`...)
	b = append(b, r.Host...)
	b = append(b, '"')
	if r.HasTrace {
		b = append(b, `,"trace_id":"`...)
		b = appendHexBytes(b, r.TraceID[:])
		b = append(b, `","span_id":"`...)
		b = appendHexBytes(b, r.SpanID[:])
		b = append(b, '"')
	}
	for i := range r.Attrs {
		a := &r.Attrs[i]
		b = append(b, ',', '"')
		b = append(b, a.Key...)
		b = append(b, '"', ':')
		switch a.Kind {
		case AttrString:
			b = eventstore.AppendJSONString(b, r.bytes(a.str))
		case AttrInt:
			b = strconv.AppendInt(b, a.Int, 10)
		case AttrFloat:
			b = strconv.AppendFloat(b, a.Float, 'f', -1, 64)
		case AttrBool:
			b = strconv.AppendBool(b, a.Int != 0)
		}
	}
	return append(b, '}', '\n')
}

func appendHexBytes(b, v []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range v {
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return b
}
