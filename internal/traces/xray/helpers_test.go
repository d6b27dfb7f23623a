package xray

import (
	"os"
	"testing"

	"github.com/miradorhq/mirador/internal/eventstore"
)

func attr(list []eventstore.Attr, key string) (eventstore.Value, bool) {
	for _, a := range list {
		if a.Key == key {
			return a.Value, true
		}
	}
	return eventstore.Value{}, false
}

// wantAttrs checks that list holds each key with the value's text and
// kind; a nil want value asserts the key is absent.
func wantAttrs(t *testing.T, what string, list []eventstore.Attr, want map[string]any) {
	t.Helper()
	for k, w := range want {
		got, ok := attr(list, k)
		if w == nil {
			if ok {
				t.Errorf("%s: %s = %v, want absent", what, k, got)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: %s missing, want %v", what, k, w)
			continue
		}
		var wv eventstore.Value
		switch w := w.(type) {
		case string:
			wv = eventstore.StringValue(w)
		case int:
			wv = eventstore.IntValue(int64(w))
		case float64:
			wv = eventstore.FloatValue(w)
		case bool:
			wv = eventstore.BoolValue(w)
		default:
			t.Fatalf("bad want type %T", w)
		}
		if got != wv {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got, wv)
		}
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func spanID(t testing.TB, s string) [8]byte {
	t.Helper()
	id, err := ParseSegmentID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func traceID(t testing.TB, s string) [16]byte {
	t.Helper()
	id, err := ParseTraceID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
