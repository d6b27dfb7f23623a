package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/miradorhq/mirador/internal/tenant"
)

func TestTenantsCreate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		id      string
		wantErr error
	}{
		{"acme", nil},
		{"acme", ErrTenantExists},
		{"default", ErrTenantExists},
		{"Acme!", tenant.ErrInvalidID},
		{"", tenant.ErrInvalidID},
	}
	for _, tt := range tests {
		err := f.tenants.Create(ctx, tt.id)
		if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("Create(%q) = %v, want %v", tt.id, err, tt.wantErr)
		}
	}

	list, err := f.tenants.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "acme" || list[1].ID != "default" {
		t.Fatalf("List = %+v, want acme and default", list)
	}
	if !list[0].CreatedAt.Equal(f.clock.Now()) {
		t.Errorf("acme CreatedAt = %v, want %v", list[0].CreatedAt, f.clock.Now())
	}
	for id, want := range map[string]bool{"acme": true, "default": true, "nope": false} {
		if got, err := f.tenants.Exists(ctx, id); err != nil || got != want {
			t.Errorf("Exists(%q) = %v, %v; want %v", id, got, err, want)
		}
	}
}
