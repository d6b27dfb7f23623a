package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/tenant"
)

func openTestStore(t *testing.T) *meta.Store {
	t.Helper()
	store, err := meta.Open(context.Background(), meta.Options{DSN: filepath.Join(t.TempDir(), "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// run calls fn and returns its output, failing the test on error.
func runOK(t *testing.T, fn func(context.Context, *meta.Store, []string, *bytes.Buffer) error, store *meta.Store, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := fn(context.Background(), store, args, &out); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String()
}

func keysCmd(ctx context.Context, s *meta.Store, args []string, out *bytes.Buffer) error {
	return runKeys(ctx, s, args, out)
}

func tenantsCmd(ctx context.Context, s *meta.Store, args []string, out *bytes.Buffer) error {
	return runTenants(ctx, s, args, out)
}

var secretRE = regexp.MustCompile(`mir_[A-Za-z0-9_-]{43}`)

func TestKeysCreateListRevoke(t *testing.T) {
	store := openTestStore(t)

	out := runOK(t, keysCmd, store, "create", "--tenant", "acme", "--scope", "ingest,read", "--name", "ci")
	for _, want := range []string{"created tenant acme", "tenant:  acme", "name:    ci", "scopes:  ingest,read", "shown only once"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}
	secret := secretRE.FindString(out)
	id := regexp.MustCompile(`key id:\s+(\S+)`).FindStringSubmatch(out)
	if secret == "" || id == nil {
		t.Fatalf("create output has no secret or key id:\n%s", out)
	}

	// The printed secret is a working key for the printed tenant.
	a := auth.NewAuthenticator(auth.NewTenants(store), auth.NewKeys(store), nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	if p, err := a.Authenticate(r); err != nil || p.Tenant != "acme" || p.KeyID != id[1] || !p.Has(auth.ScopeIngest) || p.Has(auth.ScopeAdmin) {
		t.Fatalf("Authenticate with the printed secret = %+v, %v", p, err)
	}
	a.Close() // records the use, which list shows under LAST USED

	list := runOK(t, keysCmd, store, "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^ID\s+TENANT\s+NAME\s+SCOPES\s+CREATED\s+LAST USED\s+STATUS$`).MatchString(lines[0]) {
		t.Fatalf("list output:\n%s", list)
	}
	if !regexp.MustCompile(`^` + id[1] + `\s+acme\s+ci\s+ingest,read\s+\d{4}-\d\d-\d\dT\S+Z\s+\d{4}-\d\d-\d\dT\S+Z\s+active$`).MatchString(lines[1]) {
		t.Errorf("list row = %q", lines[1])
	}
	if strings.Contains(list, secret) {
		t.Error("list shows the secret")
	}

	if out := runOK(t, keysCmd, store, "revoke", id[1]); !strings.Contains(out, "revoked key "+id[1]) {
		t.Errorf("revoke output = %q", out)
	}
	list = runOK(t, keysCmd, store, "list")
	if !regexp.MustCompile(id[1] + `.*\srevoked\n`).MatchString(list) {
		t.Errorf("list after revoke:\n%s", list)
	}
}

func TestKeysCreateDefaultsToDefaultTenant(t *testing.T) {
	store := openTestStore(t)
	out := runOK(t, keysCmd, store, "create", "--scope", "admin")
	if strings.Contains(out, "created tenant") || !strings.Contains(out, "tenant:  default") {
		t.Errorf("create output:\n%s", out)
	}
	if strings.Contains(out, "name:") {
		t.Errorf("create output shows an empty name:\n%s", out)
	}
	// No name and never used: both columns show "-".
	list := runOK(t, keysCmd, store, "list")
	if !regexp.MustCompile(`\sdefault\s+-\s+admin\s+\S+Z\s+-\s+active\n`).MatchString(list) {
		t.Errorf("list output:\n%s", list)
	}
}

func TestKeysAndTenantsUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		run     func(context.Context, *meta.Store, []string, *bytes.Buffer) error
		args    []string
		wantIs  error
		mention []string
	}{
		{"keys without subcommand", keysCmd, nil, nil, []string{"subcommand is required", "mirador keys create"}},
		{"keys unknown subcommand", keysCmd, []string{"frob"}, nil, []string{`"frob"`, "mirador keys revoke ID"}},
		{"create without scope", keysCmd, []string{"create"}, nil, []string{"--scope is required", "mirador keys create"}},
		{"create with unknown scope", keysCmd, []string{"create", "--scope", "write"}, auth.ErrInvalidScope, []string{`"write"`, "ingest, read, admin"}},
		{"create with unknown flag", keysCmd, []string{"create", "--bogus"}, nil, []string{"-bogus", "mirador keys create", "-scope"}},
		{"create with stray argument", keysCmd, []string{"create", "--scope", "read", "extra"}, nil, []string{`"extra"`, "usage:"}},
		{"create with invalid tenant", keysCmd, []string{"create", "--tenant", "Acme", "--scope", "read"}, tenant.ErrInvalidID, []string{"--tenant", `"Acme"`}},
		{"list with argument", keysCmd, []string{"list", "x"}, nil, []string{"no arguments", "usage:"}},
		{"revoke without ID", keysCmd, []string{"revoke"}, nil, []string{"exactly one key ID", "usage:"}},
		{"revoke unknown ID", keysCmd, []string{"revoke", "nosuchkey"}, auth.ErrKeyNotFound, []string{`"nosuchkey"`, "mirador keys list"}},
		{"tenants without subcommand", tenantsCmd, nil, nil, []string{"subcommand is required", "mirador tenants create NAME"}},
		{"tenants create without name", tenantsCmd, []string{"create"}, nil, []string{"exactly one tenant name", "usage:"}},
		{"tenants create existing", tenantsCmd, []string{"create", "default"}, auth.ErrTenantExists, []string{`"default"`}},
		{"tenants create invalid", tenantsCmd, []string{"create", "a/b"}, tenant.ErrInvalidID, []string{`"a/b"`}},
		{"tenants unknown subcommand", tenantsCmd, []string{"delete", "x"}, nil, []string{`"delete"`, "usage:"}},
	}
	store := openTestStore(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tt.run(context.Background(), store, tt.args, &out)
			if err == nil {
				t.Fatalf("succeeded with output %q", out.String())
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v, want errors.Is %v", err, tt.wantIs)
			}
			for _, m := range tt.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
	if keys, err := auth.NewKeys(store).List(context.Background()); err != nil || len(keys) != 0 {
		t.Errorf("failed commands left keys: %+v, %v", keys, err)
	}
}

func TestKeysCreateHelp(t *testing.T) {
	store := openTestStore(t)
	out := runOK(t, keysCmd, store, "create", "-h")
	for _, want := range []string{"mirador keys create", "-scope", "-tenant", "-name"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestTenantsCreateList(t *testing.T) {
	store := openTestStore(t)
	if out := runOK(t, tenantsCmd, store, "create", "acme"); out != "created tenant acme\n" {
		t.Errorf("create output = %q", out)
	}
	list := runOK(t, tenantsCmd, store, "list")
	if !regexp.MustCompile(`^ID\s+CREATED\nacme\s+\d{4}-\S+Z\ndefault\s+\d{4}-\S+Z\n$`).MatchString(list) {
		t.Errorf("list output:\n%s", list)
	}
}
