package auth

import (
	"fmt"
	"strings"
)

// Scope is a permission carried by an API key.
type Scope string

// The scopes, in the order they are listed and stored.
const (
	// ScopeIngest allows writing telemetry.
	ScopeIngest Scope = "ingest"
	// ScopeRead allows querying.
	ScopeRead Scope = "read"
	// ScopeAdmin allows everything, including acting on any tenant through
	// X-Scope-OrgID.
	ScopeAdmin Scope = "admin"
)

// allScopes is the canonical order. Principals share it: do not modify.
var allScopes = []Scope{ScopeIngest, ScopeRead, ScopeAdmin}

const validScopes = "ingest, read, admin"

// ParseScopes parses a comma-separated list such as "ingest,read" into
// scopes in canonical order without duplicates. An empty list or an unknown
// name is an error wrapping ErrInvalidScope.
func ParseScopes(s string) ([]Scope, error) {
	var scopes []Scope
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		scopes = append(scopes, Scope(part))
	}
	return normalizeScopes(scopes)
}

// normalizeScopes checks scopes and returns them in canonical order, deduplicated.
func normalizeScopes(scopes []Scope) ([]Scope, error) {
	if len(scopes) == 0 {
		return nil, fmt.Errorf("%w: no scope given: use one or more of %s, separated by commas", ErrInvalidScope, validScopes)
	}
	seen := make(map[Scope]bool, len(scopes))
	for _, s := range scopes {
		if !isKnownScope(s) {
			return nil, fmt.Errorf("%w %q: valid scopes are %s", ErrInvalidScope, s, validScopes)
		}
		seen[s] = true
	}
	out := make([]Scope, 0, len(seen))
	for _, s := range allScopes {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

func isKnownScope(s Scope) bool {
	for _, k := range allScopes {
		if s == k {
			return true
		}
	}
	return false
}

// FormatScopes renders scopes as ParseScopes reads them: "ingest,read".
func FormatScopes(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// splitStoredScopes reads the scopes column. It does not validate: a newer
// Mirador may have stored a scope this one does not know, and such a scope
// simply grants nothing here.
func splitStoredScopes(s string) []Scope {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	scopes := make([]Scope, len(parts))
	for i, p := range parts {
		scopes[i] = Scope(p)
	}
	return scopes
}

func hasScope(scopes []Scope, want Scope) bool {
	for _, s := range scopes {
		if s == want || s == ScopeAdmin {
			return true
		}
	}
	return false
}
