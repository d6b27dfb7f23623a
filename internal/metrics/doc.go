// Package metrics is Mirador's metrics engine: Prometheus's own TSDB, PromQL
// engine, scrape manager and OTLP translation, imported as libraries the way
// Thanos, Cortex and Mimir do, with Mirador's tenancy and limits around them.
//
// # Tenancy: one TSDB per tenant
//
// Every tenant has its own Prometheus TSDB under <dir>/<tenant>, opened on
// first use and found again on disk at start-up. Isolation is therefore a
// property of storage, not of query rewriting: no PromQL expression, label
// API call or TSDB status page can see another tenant's series, because the
// tenant's API is wired to that tenant's database and nothing else. The
// alternative, one shared TSDB with an enforced tenant label injected into
// every selector, is cheaper per tenant but makes isolation depend on
// rewriting every query path correctly forever (label values, series,
// exemplars, metadata, status) and mixes tenants' retention and series limits.
//
// The cost is a fixed overhead per tenant: a head with its stripe locks
// (~1 MiB with the stripe size used here), a WAL, a compaction loop and its
// self-metrics (labelled tenant=...). That suits tens to low thousands of
// tenants per node; the head memory of the series themselves is the same
// either way.
//
// # Ingest
//
// Remote write (1.0 and 2.0), OTLP and scrape all append through the
// tenant's database; remote write and OTLP go through ingestAppender, which
// enforces the tenant's Limits and records each rejected sample with its
// reason, so a batch's valid samples are kept and the rejected ones reported
// (Prometheus's partial-write semantics, OTLP's partial success).
//
// This package imports only internal/tenant of Mirador's packages.
package metrics
