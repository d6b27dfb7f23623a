package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
)

func flatten(t *testing.T, s string) (map[string]Value, error) {
	t.Helper()
	got := map[string]Value{}
	err := FlattenJSON(s, func(k string, v Value) { got[k] = v })
	return got, err
}

func TestFlattenJSON(t *testing.T) {
	got, err := flatten(t, `{"a":{"b":1,"c":[true,{"d":"x\u00e9\n"}],"e":null},"f":-2.5e3,"g":"","h":{}, "i":[]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{
		"a.b":     IntValue(1),
		"a.c.0":   BoolValue(true),
		"a.c.1.d": StringValue("xé\n"),
		"f":       FloatValue(-2500),
		"g":       StringValue(""),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestFlattenJSONRejectsWhatEncodingJSONRejects(t *testing.T) {
	for _, in := range []string{
		`[1,2]`, `"x"`, `{`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":+1}`, `{"a":1.}`, `{"a":.5}`, `{"a":"\x"}`,
		`{"a":tru}`, `{"a":1} x`, "{\"a\":\"\x01\"}", `{"a":[1 2]}`, `{a:1}`,
	} {
		if _, err := flatten(t, in); err == nil {
			t.Errorf("FlattenJSON(%q) succeeded", in)
		}
	}
}

func TestFlattenJSONDepthLimit(t *testing.T) {
	deep := ""
	for range maxJSONDepth + 1 {
		deep += `{"a":`
	}
	deep += "1"
	for range maxJSONDepth + 1 {
		deep += "}"
	}
	if _, err := flatten(t, deep); err == nil {
		t.Fatal("no error for nesting beyond the limit")
	}
}

// FuzzFlattenJSON checks the hand-written parser against encoding/json:
// it accepts exactly the objects encoding/json accepts (within the depth
// limit) and yields the same scalars.
func FuzzFlattenJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,"x",null,true]}}`, `{"t":"2026-01-01T00:00:00Z","msg":"hi \"there\"","n":1e400}`, `{"u":"\ud83d\ude00 \ud800"}`, `[]`, `{"a":-0.0}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := map[string]Value{}
		err := FlattenJSON(s, func(k string, v Value) { got[k] = v })
		var ref any
		refErr := json.Unmarshal([]byte(s), &ref)
		obj, isObj := ref.(map[string]any)
		if refErr != nil || !isObj {
			if err == nil && refErr != nil && !isNumberRange(refErr) {
				t.Fatalf("FlattenJSON accepted %q that encoding/json refuses: %v", s, refErr)
			}
			return
		}
		if err != nil {
			if depthOf(obj) > maxJSONDepth-1 {
				return
			}
			t.Fatalf("FlattenJSON refused valid %q: %v", s, err)
		}
		want := map[string]any{}
		flattenRef("", obj, want)
		if len(want) < len(got) {
			t.Fatalf("%q: %d fields, encoding/json finds %d (%v vs %v)", s, len(got), len(want), got, want)
		}
		for k, w := range want {
			g, ok := got[k]
			if !ok {
				// Duplicate keys: both parsers keep the last; paths can also collide ("a.b" vs a{b}).
				continue
			}
			switch w := w.(type) {
			case string:
				if g.Kind != KindString || g.Str != w {
					t.Errorf("%q: field %s = %#v, want %q", s, k, g, w)
				}
			case float64:
				f := g.Float
				if g.Kind == KindInt {
					f = float64(g.Int)
				}
				if f != w && !(math.IsNaN(f) && math.IsNaN(w)) {
					t.Errorf("%q: field %s = %v, want %v", s, k, f, w)
				}
			case bool:
				if g.Kind != KindBool || (g.Int != 0) != w {
					t.Errorf("%q: field %s = %#v, want %v", s, k, g, w)
				}
			}
		}
	})
}

func isNumberRange(err error) bool {
	var ue *json.UnmarshalTypeError
	return errors.As(err, &ue)
}

// flattenRef flattens like FlattenJSON; paths that two values share
// ({"a.b":1,"a":{"b":2}}) map to nil, as their winner depends on order.
func flattenRef(prefix string, v any, out map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			flattenRef(joinPath(prefix, k), x, out)
		}
	case []any:
		for i, x := range v {
			flattenRef(joinPath(prefix, fmt.Sprint(i)), x, out)
		}
	case nil:
	default:
		if _, dup := out[prefix]; dup {
			v = nil
		}
		out[prefix] = v
	}
}

func depthOf(v any) int {
	d := 0
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			d = max(d, depthOf(x))
		}
		return d + 1
	case []any:
		for _, x := range v {
			d = max(d, depthOf(x))
		}
		return d + 1
	}
	return 0
}

func TestAttrsJSONRoundTrip(t *testing.T) {
	in := []Attr{
		{Key: "http.status", Value: IntValue(200)},
		{Key: "ratio", Value: FloatValue(1)},
		{Key: "tiny", Value: FloatValue(1e-9)},
		{Key: "ok", Value: BoolValue(true)},
		{Key: "msg \"q\"\n\x01é", Value: StringValue("a\\b\t\x00ü")},
		{Key: "inf", Value: FloatValue(math.Inf(1))},
	}
	js := string(AppendAttrsJSON(nil, in))
	if !json.Valid([]byte(js)) {
		t.Fatalf("invalid JSON %s", js)
	}
	out, err := ParseAttrsJSON(js, nil)
	if err != nil {
		t.Fatal(err)
	}
	in[5].Value = StringValue("+Inf")
	if fmt.Sprint(out) != fmt.Sprint(in) {
		t.Fatalf("round trip\n got %v\nwant %v", out, in)
	}
}

func TestAppendJSONStringEscapes(t *testing.T) {
	tests := map[string]string{
		"plain":                  `"plain"`,
		`say "hi"`:               `"say \"hi\""`,
		"a\\b":                   `"a\\b"`,
		"line\n\tat frame\r":     `"line\n\tat frame\r"`,
		"bell\x07":               `"bell\u0007"`,
		"caf\u00e9 \u2603":       "\"caf\u00e9 \u2603\"",
		"":                       `""`,
		`{"event":"x","n":null}`: `"{\"event\":\"x\",\"n\":null}"`,
	}
	for in, want := range tests {
		got := string(AppendJSONString(nil, []byte(in)))
		if got != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != in {
			t.Errorf("%s does not decode back to %q (%v)", got, in, err)
		}
	}
}
