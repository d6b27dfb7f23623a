// Package auth owns who may do what: tenants, API keys, and the
// authentication of HTTP requests to a Principal acting on one tenant.
//
// Tenants and keys live in the meta store. A key's secret is shown once at
// creation and stored only as a SHA-256 digest; this package never logs it,
// stores it or returns it again. Authentication is on as soon as one
// unrevoked key exists; before that (a fresh loopback install) every request
// is anonymous with every scope.
//
// auth imports meta and tenant and nothing else of Mirador's; API packages
// import auth, engines never do (they read the tenant from the context).
package auth
