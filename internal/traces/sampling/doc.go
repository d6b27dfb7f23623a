// Package sampling is X-Ray centralized sampling: each tenant's sampling
// rules in the meta store (Store, with the built-in Default rule), the rule
// a request falls under (Match), the per-second reservoir shared among the
// clients of a rule (Allocator, GetSamplingTargets), and the X-Ray REST
// operations over them (Service.Handler), which SDKs call directly or
// through the X-Ray daemon's TCP proxy.
//
// The server never samples: clients decide, one request at a time, with
// the rules and quotas they fetch. Wire shapes are written by hand because
// no maintained Go package serves X-Ray's rest-json; the AWS X-Ray SDK for
// Go is the client the tests check them against.
//
// This package imports meta and nothing else of Mirador's; the API layer
// mounts the handler and maps errors (ErrNotFound, ErrExists,
// *ValidationError) for its native routes.
package sampling
