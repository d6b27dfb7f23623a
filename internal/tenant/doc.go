// Package tenant carries the tenant identity through a request's context and
// defines what a valid tenant ID is.
//
// Every engine reads the tenant from the context it is given; only the API
// layer (after authentication) puts it there. This package imports nothing of
// Mirador's, so engines can depend on it without depending on auth.
package tenant
