package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/tenant"
)

func TestKeysCreateReturnsKeyAndSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key, secret, err := f.keys.Create(ctx, "default", "grafana", []Scope{ScopeRead, ScopeIngest, ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "mir_") {
		t.Errorf("secret %q does not start with mir_", secret)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, "mir_")); err != nil || len(raw) != 32 {
		t.Errorf("secret body decodes to %d bytes, %v; want 32 bytes of base64url", len(raw), err)
	}
	if !regexp.MustCompile(`^[a-z2-7]{12}$`).MatchString(key.ID) {
		t.Errorf("key ID %q is not 12 lowercase base32 characters", key.ID)
	}
	want := Key{ID: key.ID, Tenant: "default", Name: "grafana", Scopes: []Scope{ScopeIngest, ScopeRead}, CreatedAt: f.clock.Now()}
	if fmt.Sprint(key) != fmt.Sprint(want) {
		t.Errorf("Create = %+v, want %+v", key, want)
	}

	key2, secret2, err := f.keys.Create(ctx, "default", "", []Scope{ScopeIngest})
	if err != nil {
		t.Fatal(err)
	}
	if key2.ID == key.ID || secret2 == secret {
		t.Error("two keys share an ID or a secret")
	}
}

func TestKeysCreateRejects(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		tenant  string
		scopes  []Scope
		wantErr error
		mention string
	}{
		{"unknown tenant", "nope", []Scope{ScopeRead}, ErrUnknownTenant, "mirador tenants create nope"},
		{"invalid tenant", "No Pe", []Scope{ScopeRead}, tenant.ErrInvalidID, "No Pe"},
		{"no scopes", "default", nil, ErrInvalidScope, "no scope"},
		{"unknown scope", "default", []Scope{"write"}, ErrInvalidScope, "write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, secret, err := f.keys.Create(context.Background(), tt.tenant, "n", tt.scopes)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Create = %v, want %v mentioning %q", err, tt.wantErr, tt.mention)
			}
			if secret != "" {
				t.Error("a failed Create returned a secret")
			}
		})
	}
	if keys, _ := f.keys.List(context.Background()); len(keys) != 0 {
		t.Errorf("failed creates left keys: %+v", keys)
	}
}

// The secret exists only in Create's return value: not in the database file
// (nor its WAL), not in List.
func TestSecretIsNeverStored(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, secret, err := f.keys.Create(ctx, "default", "ci", []Scope{ScopeIngest})
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hash := hashHex(hashSecret(secret))
	if dump := fmt.Sprintf("%+v", list); strings.Contains(dump, secret) || strings.Contains(dump, hash) {
		t.Errorf("List exposes the secret or its hash: %s", dump)
	}

	files, _ := filepath.Glob(f.path + "*") // meta.db, meta.db-wal, meta.db-shm
	var all []byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if bytes.Contains(all, []byte(secret)) || bytes.Contains(all, []byte(strings.TrimPrefix(secret, "mir_"))) {
		t.Fatalf("the secret is in the database files %v", files)
	}
	// The hash is there, so the files read are the ones written.
	if !bytes.Contains(all, []byte(hash)) {
		t.Fatalf("the key's hash is not in %v: the check above read the wrong files", files)
	}
}

func TestKeysRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key, _ := f.createKey(t, "default", ScopeRead)
	f.clock.Advance(time.Hour)

	if err := f.keys.Revoke(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.keys.Revoke(ctx, key.ID); err != nil {
		t.Errorf("second Revoke = %v, want nil (idempotent)", err)
	}
	err := f.keys.Revoke(ctx, "nosuchkey123")
	if !errors.Is(err, ErrKeyNotFound) || !strings.Contains(err.Error(), "nosuchkey123") {
		t.Errorf("Revoke(unknown) = %v, want ErrKeyNotFound naming the ID", err)
	}

	list, err := f.keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].RevokedAt == nil || !list[0].RevokedAt.Equal(f.clock.Now()) || list[0].Active() {
		t.Fatalf("List after revoke = %+v, want the key revoked at %v", list, f.clock.Now())
	}
}

func TestKeysAnyActive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	check := func(want bool) {
		t.Helper()
		if got, err := f.keys.AnyActive(ctx); err != nil || got != want {
			t.Fatalf("AnyActive = %v, %v; want %v", got, err, want)
		}
	}
	check(false)
	k1, _ := f.createKey(t, "default", ScopeRead)
	check(true)
	k2, _ := f.createKey(t, "other", ScopeIngest)
	if err := f.keys.Revoke(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	check(true)
	if err := f.keys.Revoke(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	check(false)
}
