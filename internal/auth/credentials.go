package auth

import (
	"fmt"
	"net/http"
	"strings"
)

// OrgIDHeader selects the tenant of a request, as in Cortex, Mimir and Loki.
// It is honoured only when authentication is off or the key is an admin key.
const OrgIDHeader = "X-Scope-OrgID"

// orgIDKey is OrgIDHeader in canonical form ("X-Scope-Orgid"). Indexing the
// header map with it directly skips the per-request canonicalisation (and
// allocation) that Header.Get does for a non-canonical name.
var orgIDKey = http.CanonicalHeaderKey(OrgIDHeader)

// orgID returns the X-Scope-OrgID header of r, or "".
func orgID(r *http.Request) string {
	if v := r.Header[orgIDKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

const sendKeyHint = "send an API key as 'Authorization: Bearer <key>' or as the basic-auth password; " + createKeyHint

// credentials returns the secret a request carries: the token of
// "Authorization: Bearer <secret>", or the password of basic auth (the
// username is ignored: Grafana and Prometheus put anything there).
func credentials(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", fmt.Errorf("%w: %s", ErrUnauthenticated, sendKeyHint)
	}
	scheme, rest, _ := strings.Cut(h, " ")
	var secret string
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		secret = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		_, password, ok := r.BasicAuth()
		if !ok {
			return "", fmt.Errorf("%w: the basic-auth header is malformed; %s", ErrUnauthenticated, sendKeyHint)
		}
		secret = password
	default:
		return "", fmt.Errorf("%w: Authorization scheme %q is not supported; %s", ErrUnauthenticated, scheme, sendKeyHint)
	}
	if secret == "" {
		return "", fmt.Errorf("%w: the credential is empty; %s", ErrUnauthenticated, sendKeyHint)
	}
	if !looksLikeSecret(secret) {
		return "", fmt.Errorf("%w: the credential sent is not a Mirador API key (those start with %q); %s",
			ErrInvalidCredentials, secretPrefix, createKeyHint)
	}
	return secret, nil
}
