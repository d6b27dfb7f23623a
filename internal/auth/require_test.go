package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/miradorhq/mirador/internal/tenant"
)

func TestRequire(t *testing.T) {
	f := newFixture(t)
	_, ingestSecret := f.createKey(t, "acme", ScopeIngest)
	_, readSecret := f.createKey(t, "acme", ScopeRead)
	_, adminSecret := f.createKey(t, "default", ScopeAdmin)

	var seen struct {
		called    bool
		tenant    string
		principal Principal
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.called = true
		seen.tenant, _ = tenant.FromContext(r.Context())
		seen.principal, _ = PrincipalFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	h := f.auth.Require(ScopeRead, next)

	tests := []struct {
		name          string
		req           request
		wantStatus    int
		wantErrorType string
		mention       []string
		wantTenant    string
	}{
		{name: "read key", req: request{bearer: readSecret}, wantStatus: http.StatusNoContent, wantTenant: "acme"},
		{name: "admin key implies read", req: request{bearer: adminSecret, orgID: "acme"}, wantStatus: http.StatusNoContent, wantTenant: "acme"},
		{name: "missing credentials", req: request{}, wantStatus: http.StatusUnauthorized, wantErrorType: "unauthorized",
			mention: []string{"Authorization: Bearer <key>", "basic-auth password", "mirador keys create --tenant T --scope read"}},
		{name: "invalid credentials", req: request{basicUser: "u", basicPass: "p"}, wantStatus: http.StatusUnauthorized, wantErrorType: "unauthorized"},
		{name: "missing scope", req: request{bearer: ingestSecret}, wantStatus: http.StatusForbidden, wantErrorType: "forbidden",
			mention: []string{`needs the "read" scope`, `has "ingest"`}},
		{name: "other tenant without admin", req: request{bearer: readSecret, orgID: "default"}, wantStatus: http.StatusForbidden, wantErrorType: "forbidden",
			mention: []string{"admin key"}},
		{name: "unknown tenant", req: request{bearer: adminSecret, orgID: "nope"}, wantStatus: http.StatusBadRequest, wantErrorType: "bad_data",
			mention: []string{"mirador tenants create nope"}},
		{name: "invalid tenant", req: request{bearer: adminSecret, orgID: "a/b"}, wantStatus: http.StatusBadRequest, wantErrorType: "bad_data",
			mention: []string{`"a/b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen.called = false
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req.build())
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantErrorType == "" {
				if !seen.called || seen.tenant != tt.wantTenant || seen.principal.Tenant != tt.wantTenant {
					t.Fatalf("next saw called=%v tenant=%q principal=%+v; want tenant %q", seen.called, seen.tenant, seen.principal, tt.wantTenant)
				}
				return
			}
			if seen.called {
				t.Fatal("next was called for a failed request")
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			wantChallenge := ""
			if tt.wantStatus == http.StatusUnauthorized {
				wantChallenge = `Basic realm="mirador"`
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
			}
			var body struct{ Status, ErrorType, Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if body.Status != "error" || body.ErrorType != tt.wantErrorType {
				t.Errorf("body = %+v, want status error, errorType %s", body, tt.wantErrorType)
			}
			for _, m := range tt.mention {
				if !strings.Contains(body.Error, m) {
					t.Errorf("error %q does not mention %q", body.Error, m)
				}
			}
			for _, s := range []string{ingestSecret, readSecret, adminSecret} {
				if strings.Contains(rec.Body.String(), s) {
					t.Error("response contains a secret")
				}
			}
		})
	}
	// Each request above was counted once, under its result.
	const want = `
# HELP mirador_auth_requests_total Requests authenticated, by result: ok, unauthenticated, invalid_credentials, forbidden (scope or X-Scope-OrgID), unknown_tenant (X-Scope-OrgID names no existing tenant, or is malformed), error (meta store failure).
# TYPE mirador_auth_requests_total counter
mirador_auth_requests_total{result="error"} 0
mirador_auth_requests_total{result="forbidden"} 2
mirador_auth_requests_total{result="invalid_credentials"} 1
mirador_auth_requests_total{result="ok"} 2
mirador_auth_requests_total{result="unauthenticated"} 1
mirador_auth_requests_total{result="unknown_tenant"} 2
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), "mirador_auth_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestRequireReportsStoreFailureAsInternal(t *testing.T) {
	f := newFixture(t)
	f.store.Close() // every query now fails
	rec := httptest.NewRecorder()
	f.auth.Require(ScopeRead, http.NotFoundHandler()).ServeHTTP(rec, request{}.build())
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"errorType":"internal"`) {
		t.Fatalf("status %d body %s; want 500 internal", rec.Code, rec.Body)
	}
	if got := counterValue(t, f.reg, "error"); got != 1 {
		t.Errorf(`result="error" = %v, want 1`, got)
	}
}
