package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/miradorhq/mirador/internal/tenant"
)

// Require returns a handler that authenticates each request, checks that the
// principal holds scope (admin implies every scope), and calls next with the
// tenant (tenant.WithID) and the Principal (WithPrincipal) on the request
// context. A failure is answered with WriteError and next is not called.
func (a *Authenticator) Require(scope Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(r)
		if err == nil && !p.Has(scope) {
			err = fmt.Errorf("%w: this request needs the %q scope and key %s has %q; create a key with 'mirador keys create --tenant %s --scope %s'",
				ErrForbidden, scope, p.KeyID, FormatScopes(p.Scopes), p.Tenant, scope)
		}
		a.count(err)
		if err != nil {
			WriteError(w, err)
			return
		}
		ctx := tenant.WithID(WithPrincipal(r.Context(), p), p.Tenant)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// apiError is the Prometheus HTTP API error shape, which Grafana displays.
type apiError struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

// WriteError answers an authentication error from this package as
// {"status":"error","errorType":…,"error":…}: 401 "unauthorized" (with
// WWW-Authenticate) for missing or invalid credentials, 403 "forbidden", 400
// "bad_data" for an unknown or invalid tenant, and 500 "internal" otherwise.
func WriteError(w http.ResponseWriter, err error) {
	status, errorType := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrInvalidCredentials):
		status, errorType = http.StatusUnauthorized, "unauthorized"
		w.Header().Set("WWW-Authenticate", `Basic realm="mirador"`)
	case errors.Is(err, ErrForbidden):
		status, errorType = http.StatusForbidden, "forbidden"
	case errors.Is(err, ErrUnknownTenant), errors.Is(err, tenant.ErrInvalidID):
		status, errorType = http.StatusBadRequest, "bad_data"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// Keep "<key>" readable in curl output rather than \u003ckey\u003e.
	enc.SetEscapeHTML(false)
	// A failed write means the client is gone; there is nothing to do.
	_ = enc.Encode(apiError{Status: "error", ErrorType: errorType, Error: err.Error()})
}
