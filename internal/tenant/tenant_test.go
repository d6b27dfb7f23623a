package tenant

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, id := range []string{"default", "acme", "team-a", "t_1", "0abc", strings.Repeat("a", MaxIDLength)} {
		if err := Validate(id); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "Acme", "-x", "_x", "a/b", "..", "a b", "é", strings.Repeat("a", MaxIDLength+1)} {
		if err := Validate(id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Validate(%q) = %v, want ErrInvalidID", id, err)
		}
	}
}

func TestContextRoundTrip(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("empty context reported a tenant")
	}
	id, ok := FromContext(WithID(context.Background(), "acme"))
	if !ok || id != "acme" {
		t.Fatalf("FromContext = %q, %v; want acme, true", id, ok)
	}
}
