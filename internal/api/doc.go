// Package api is Mirador's HTTP surface on the main port: the native REST
// API under /api/v1 (described by /api/v1/openapi.json), the
// Prometheus-compatible API under /prometheus/api/v1, health checks and
// Mirador's own /metrics.
//
// One route table (routes.go) drives the mux, the authentication each route
// requires and the OpenAPI document, so the three cannot disagree. Handlers
// here decode requests and encode responses; the work is done by the domain
// packages (auth, metrics) they call.
package api
