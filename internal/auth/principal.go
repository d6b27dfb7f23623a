package auth

import "context"

// Principal is who a request acts as, after authentication.
type Principal struct {
	// Tenant is the tenant the request acts on: the key's own, or the one an
	// admin key (or an anonymous request) selected with X-Scope-OrgID.
	Tenant string
	// KeyID identifies the API key; empty when Anonymous.
	KeyID string
	// Scopes are the key's scopes; every scope when Anonymous. The slice is
	// shared: do not modify it.
	Scopes []Scope
	// Anonymous is true while no active API key exists and authentication is
	// therefore off.
	Anonymous bool
}

// Has reports whether p holds scope s. Admin implies every scope.
func (p Principal) Has(s Scope) bool { return hasScope(p.Scopes, s) }

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the Principal carried by ctx, and whether
// there was one.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
