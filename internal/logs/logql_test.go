package logs

import (
	"testing"
)

func TestParseLogfmt(t *testing.T) {
	kv, ok := parseLogfmt(`level=info msg="user \"bob\" logged in" dur=1.5s empty= flag path=/a=b`)
	want := map[string]string{"level": "info", "msg": `user "bob" logged in`, "dur": "1.5s", "empty": "", "flag": "", "path": "/a=b"}
	if !ok || len(kv) != len(want) {
		t.Fatalf("%v %v", kv, ok)
	}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	if _, ok := parseLogfmt(`msg="unterminated`); ok {
		t.Error("an unterminated quote parsed cleanly")
	}
}

func FuzzLogfmt(f *testing.F) {
	f.Add(`level=info msg="a \"b\" c" x= y`)
	f.Fuzz(func(t *testing.T, s string) {
		kv, _ := parseLogfmt(s)
		for k := range kv {
			if k == "" {
				t.Fatalf("empty key from %q", s)
			}
		}
	})
}
