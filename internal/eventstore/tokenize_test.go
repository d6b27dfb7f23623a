package eventstore

import (
	"slices"
	"testing"
)

func TestTokenize(t *testing.T) {
	var got []string
	Tokenize("GET /api/v1/users?id=42 took 3.5ms — héllo_wörld", func(tok string) { got = append(got, tok) })
	want := []string{"GET", "api", "v1", "users", "id", "42", "took", "3", "5ms", "h", "llo_w", "rld"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tokenize = %q, want %q", got, want)
	}
}

func TestInteriorTokens(t *testing.T) {
	for lit, want := range map[string][]string{
		"needle":            nil,
		" needle ":          {"needle"},
		"user=alice id=42 ": {"alice", "id", "42"},
		"a-b-c":             {"b"},
		"":                  nil,
	} {
		if got := InteriorTokens(lit); !slices.Equal(got, want) {
			t.Errorf("InteriorTokens(%q) = %q, want %q", lit, got, want)
		}
	}
}
