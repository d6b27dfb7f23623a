package auth

import "errors"

// Sentinel errors. The errors returned by this package wrap one of them with a
// message that says what to do; test with errors.Is. WriteError maps them to
// HTTP statuses.
var (
	// ErrTenantExists: creating a tenant that already exists.
	ErrTenantExists = errors.New("tenant already exists")
	// ErrUnknownTenant: naming a tenant that does not exist (400).
	ErrUnknownTenant = errors.New("unknown tenant")
	// ErrKeyNotFound: naming an API key ID that does not exist.
	ErrKeyNotFound = errors.New("API key not found")
	// ErrInvalidScope: a scope name that is not ingest, read or admin.
	ErrInvalidScope = errors.New("invalid scope")
	// ErrUnauthenticated: a request without credentials while auth is on (401).
	ErrUnauthenticated = errors.New("authentication required")
	// ErrInvalidCredentials: credentials that match no active key (401).
	ErrInvalidCredentials = errors.New("invalid API key")
	// ErrForbidden: a valid key that may not do what was asked (403).
	ErrForbidden = errors.New("forbidden")
)

// createKeyHint ends the messages of authentication failures.
const createKeyHint = "create one with 'mirador keys create --tenant T --scope read'"
