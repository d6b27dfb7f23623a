// Package otelconv converts OpenTelemetry pdata values into event store
// records' attributes, the same way for every receiver.
package otelconv

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// streamAttributes identify the source of a record within its group; their
// values, joined by '/', name its stream.
var streamAttributes = []string{
	"service.namespace", "service.name", "service.instance.id", "host.name",
	"k8s.namespace.name", "k8s.pod.name", "container.id",
}

// Stream names a resource by its identifying attributes.
func Stream(res pcommon.Map) string {
	return joinStream(func(k string) string {
		if v, ok := res.Get(k); ok {
			return v.AsString()
		}
		return ""
	})
}

// StreamOf is Stream for resource attributes already converted, so spans
// of one resource land in the same stream whatever protocol sent them.
func StreamOf(res []eventstore.Attr) string {
	return joinStream(func(k string) string {
		for _, a := range res {
			if a.Key == k {
				return a.Value.String()
			}
		}
		return ""
	})
}

func joinStream(get func(key string) string) string {
	var b strings.Builder
	for _, k := range streamAttributes {
		if v := get(k); v != "" {
			if b.Len() > 0 {
				b.WriteByte('/')
			}
			b.WriteString(v)
		}
	}
	if b.Len() == 0 {
		return "default"
	}
	return b.String()
}

// ScopeAttrs are the attributes naming an instrumentation scope.
func ScopeAttrs(s pcommon.InstrumentationScope) []eventstore.Attr {
	var out []eventstore.Attr
	if s.Name() != "" {
		out = append(out, eventstore.Attr{Key: "otel.scope.name", Value: eventstore.StringValue(s.Name())})
	}
	if s.Version() != "" {
		out = append(out, eventstore.Attr{Key: "otel.scope.version", Value: eventstore.StringValue(s.Version())})
	}
	return out
}

// Attrs converts m, flattening nested maps into dotted keys; arrays and
// bytes become their JSON and base64 text. extra is appended.
func Attrs(m pcommon.Map, extra []eventstore.Attr) []eventstore.Attr {
	if m.Len() == 0 && len(extra) == 0 {
		return nil
	}
	out := make([]eventstore.Attr, 0, m.Len()+len(extra))
	out = appendAttrs(out, "", m)
	return append(out, extra...)
}

func appendAttrs(out []eventstore.Attr, prefix string, m pcommon.Map) []eventstore.Attr {
	for k, v := range m.All() {
		key := joinPath(prefix, k)
		switch v.Type() {
		case pcommon.ValueTypeMap:
			out = appendAttrs(out, key, v.Map())
		case pcommon.ValueTypeInt:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.IntValue(v.Int())})
		case pcommon.ValueTypeDouble:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.FloatValue(v.Double())})
		case pcommon.ValueTypeBool:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.BoolValue(v.Bool())})
		case pcommon.ValueTypeEmpty:
		default:
			out = append(out, eventstore.Attr{Key: key, Value: eventstore.StringValue(v.AsString())})
		}
	}
	return out
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
