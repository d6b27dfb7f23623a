package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/tenant"
)

type request struct {
	bearer    string
	basicUser string
	basicPass string
	authz     string // raw Authorization header
	orgID     string
}

func (rq request) build() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
	switch {
	case rq.authz != "":
		r.Header.Set("Authorization", rq.authz)
	case rq.bearer != "":
		r.Header.Set("Authorization", "Bearer "+rq.bearer)
	case rq.basicPass != "":
		r.SetBasicAuth(rq.basicUser, rq.basicPass)
	}
	if rq.orgID != "" {
		r.Header.Set(OrgIDHeader, rq.orgID)
	}
	return r
}

func TestAuthenticateIsAnonymousWithoutActiveKeys(t *testing.T) {
	f := newFixture(t)
	if err := f.tenants.Create(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		req        request
		wantTenant string
		wantErr    error
		mention    string
	}{
		{name: "no header uses default", req: request{}, wantTenant: "default"},
		{name: "X-Scope-OrgID selects a tenant", req: request{orgID: "acme"}, wantTenant: "acme"},
		{name: "credentials are ignored", req: request{bearer: "whatever"}, wantTenant: "default"},
		{name: "unknown tenant", req: request{orgID: "nope"}, wantErr: ErrUnknownTenant, mention: "mirador tenants create nope"},
		{name: "invalid tenant", req: request{orgID: "../etc"}, wantErr: tenant.ErrInvalidID, mention: "X-Scope-OrgID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.auth.Authenticate(tt.req.build())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.mention) {
					t.Fatalf("Authenticate = %+v, %v; want %v mentioning %q", p, err, tt.wantErr, tt.mention)
				}
				return
			}
			want := Principal{Tenant: tt.wantTenant, Scopes: []Scope{ScopeIngest, ScopeRead, ScopeAdmin}, Anonymous: true}
			if err != nil || !reflect.DeepEqual(p, want) {
				t.Fatalf("Authenticate = %+v, %v; want %+v", p, err, want)
			}
		})
	}
}

func TestAuthenticateWithKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	reader, readSecret := f.createKey(t, "acme", ScopeRead)
	admin, adminSecret := f.createKey(t, "default", ScopeAdmin)
	if err := f.tenants.Create(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	revoked, revokedSecret := f.createKey(t, "acme", ScopeRead)
	if err := f.keys.Revoke(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	_, unknownSecret, _ := newFixture(t).keys.Create(ctx, "default", "elsewhere", []Scope{ScopeRead})

	tests := []struct {
		name    string
		req     request
		want    Principal
		wantErr error
		mention string
	}{
		{name: "bearer", req: request{bearer: readSecret},
			want: Principal{Tenant: "acme", KeyID: reader.ID, Scopes: []Scope{ScopeRead}}},
		{name: "basic auth password, any username", req: request{basicUser: "grafana", basicPass: readSecret},
			want: Principal{Tenant: "acme", KeyID: reader.ID, Scopes: []Scope{ScopeRead}}},
		{name: "basic auth password, empty username", req: request{basicPass: readSecret},
			want: Principal{Tenant: "acme", KeyID: reader.ID, Scopes: []Scope{ScopeRead}}},
		{name: "lowercase bearer scheme", req: request{authz: "bearer " + readSecret},
			want: Principal{Tenant: "acme", KeyID: reader.ID, Scopes: []Scope{ScopeRead}}},
		{name: "own tenant in X-Scope-OrgID", req: request{bearer: readSecret, orgID: "acme"},
			want: Principal{Tenant: "acme", KeyID: reader.ID, Scopes: []Scope{ScopeRead}}},
		{name: "admin selects another tenant", req: request{bearer: adminSecret, orgID: "other"},
			want: Principal{Tenant: "other", KeyID: admin.ID, Scopes: []Scope{ScopeAdmin}}},
		{name: "admin without X-Scope-OrgID acts on its own tenant", req: request{bearer: adminSecret},
			want: Principal{Tenant: "default", KeyID: admin.ID, Scopes: []Scope{ScopeAdmin}}},

		{name: "no credentials", req: request{}, wantErr: ErrUnauthenticated, mention: "Authorization: Bearer <key>"},
		{name: "empty bearer", req: request{authz: "Bearer "}, wantErr: ErrUnauthenticated, mention: "empty"},
		{name: "unsupported scheme", req: request{authz: "Digest abc"}, wantErr: ErrUnauthenticated, mention: `"Digest"`},
		{name: "malformed basic", req: request{authz: "Basic !!!"}, wantErr: ErrUnauthenticated, mention: "malformed"},
		{name: "not a mirador key", req: request{basicUser: "admin", basicPass: "admin"}, wantErr: ErrInvalidCredentials, mention: "mir_"},
		{name: "unknown key", req: request{bearer: unknownSecret}, wantErr: ErrInvalidCredentials, mention: "unknown or revoked"},
		{name: "revoked key", req: request{bearer: revokedSecret}, wantErr: ErrInvalidCredentials, mention: "unknown or revoked"},
		{name: "non-admin selects another tenant", req: request{bearer: readSecret, orgID: "other"}, wantErr: ErrForbidden,
			mention: "X-Scope-OrgID can only select another tenant with an admin key"},
		{name: "admin selects unknown tenant", req: request{bearer: adminSecret, orgID: "nope"}, wantErr: ErrUnknownTenant,
			mention: "mirador tenants create nope"},
		{name: "admin selects invalid tenant", req: request{bearer: adminSecret, orgID: "A B"}, wantErr: tenant.ErrInvalidID,
			mention: `"A B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.auth.Authenticate(tt.req.build())
			if tt.wantErr == nil {
				if err != nil || !reflect.DeepEqual(p, tt.want) {
					t.Fatalf("Authenticate = %+v, %v; want %+v", p, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Authenticate = %+v, %v; want %v mentioning %q", p, err, tt.wantErr, tt.mention)
			}
			for _, s := range []string{readSecret, adminSecret, revokedSecret, unknownSecret} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error message contains a secret: %v", err)
				}
			}
		})
	}
}

// A key created or revoked takes effect within cacheTTL, and within it
// requests are answered from the cache.
func TestKeyChangesTakeEffectWithinCacheTTL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	authenticate := func(secret string) (Principal, error) {
		return f.auth.Authenticate(request{bearer: secret}.build())
	}

	if p, err := authenticate(""); err != nil || !p.Anonymous {
		t.Fatalf("before any key: %+v, %v; want anonymous", p, err)
	}
	key, secret := f.createKey(t, "default", ScopeRead)
	f.clock.Advance(cacheTTL / 2)
	if p, err := authenticate(""); err != nil || !p.Anonymous {
		t.Fatalf("half a TTL after the first key: %+v, %v; want the cached anonymous answer", p, err)
	}
	f.clock.Advance(cacheTTL / 2)
	if _, err := authenticate(""); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a TTL after the first key: %v; want ErrUnauthenticated", err)
	}
	if p, err := authenticate(secret); err != nil || p.KeyID != key.ID {
		t.Fatalf("with the key: %+v, %v", p, err)
	}

	if err := f.keys.Revoke(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(cacheTTL / 2)
	if p, err := authenticate(secret); err != nil || p.KeyID != key.ID {
		t.Fatalf("half a TTL after revoke: %+v, %v; want the cached key", p, err)
	}
	f.clock.Advance(cacheTTL / 2)
	// The only key is revoked, so auth is off again: the request is anonymous.
	if p, err := authenticate(secret); err != nil || !p.Anonymous {
		t.Fatalf("a TTL after revoking the only key: %+v, %v; want anonymous", p, err)
	}
}

func TestRevokedKeyFailsWhileOthersRemain(t *testing.T) {
	f := newFixture(t)
	f.createKey(t, "default", ScopeRead)
	key, secret := f.createKey(t, "default", ScopeRead)
	if _, err := f.auth.Authenticate(request{bearer: secret}.build()); err != nil {
		t.Fatal(err)
	}
	if err := f.keys.Revoke(context.Background(), key.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(cacheTTL)
	if _, err := f.auth.Authenticate(request{bearer: secret}.build()); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("revoked key a TTL later: %v; want ErrInvalidCredentials", err)
	}
}

func TestLastUsedAtIsWrittenAtMostOncePerMinute(t *testing.T) {
	tests := []struct {
		name     string
		requests []time.Duration // offsets from the first request
		want     time.Duration   // expected last_used_at offset
	}{
		{"second use within a minute is not written", []time.Duration{0, 30 * time.Second}, 0},
		{"use a minute later is written", []time.Duration{0, 61 * time.Second}, 61 * time.Second},
		{"only the first of a burst is written", []time.Duration{0, time.Second, 2 * time.Second, 59 * time.Second}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			key, secret := f.createKey(t, "default", ScopeIngest)
			start := f.clock.Now()
			for _, off := range tt.requests {
				f.clock.Set(start.Add(off))
				if _, err := f.auth.Authenticate(request{bearer: secret}.build()); err != nil {
					t.Fatal(err)
				}
			}
			f.auth.Close() // writes what is queued, in order
			list, err := f.keys.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].ID != key.ID || list[0].LastUsedAt == nil {
				t.Fatalf("List = %+v, want the key with LastUsedAt set", list)
			}
			if got := list[0].LastUsedAt.Sub(start); got != tt.want {
				t.Errorf("last_used_at = start%+v, want start%+v", got, tt.want)
			}
		})
	}
}

func TestCloseStopsItsGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	store, err := meta.Open(context.Background(), meta.Options{DSN: t.TempDir() + "/meta.db"})
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuthenticator(NewTenants(store), NewKeys(store), nil)
	if _, err := a.Authenticate(request{}.build()); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	store.Close()
}

func TestAuthenticatorsShareARegistry(t *testing.T) {
	f := newFixture(t)
	other := NewAuthenticator(f.tenants, f.keys, f.reg) // must not panic
	defer other.Close()
	other.Authenticate(request{}.build())
	f.auth.Authenticate(request{}.build())
	if got := counterValue(t, f.reg, "ok"); got != 2 {
		t.Errorf(`mirador_auth_requests_total{result="ok"} = %v, want 2 (both authenticators counted)`, got)
	}
}

func counterValue(t *testing.T, reg prometheus.Gatherer, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "mirador_auth_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no mirador_auth_requests_total{result=%q}", result)
	return 0
}
