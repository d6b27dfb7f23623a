// Package logs is the logs pillar: log groups (CloudWatch naming and
// retention rules, kept in the meta store), ingest from OTLP, NDJSON and
// plain text into the event store's logs dataset, Logs Insights queries,
// filter-pattern searches and live tail.
//
// It owns the mapping from those inputs to eventstore.Record and the
// per-tenant ingest limits. It must not import the api or server packages;
// HTTP lives in internal/api.
package logs
