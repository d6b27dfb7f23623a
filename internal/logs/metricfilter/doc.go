// Package metricfilter turns log records into metrics, as CloudWatch Logs
// metric filters do: a filter pattern over a log group's records and a
// metric transformation (name, namespace, value — a literal or a field the
// pattern extracts —, default value, dimensions from fields), applied at
// ingest, never retroactively.
//
// The TSDB holds one sample per series per timestamp, so values are summed
// per minute of the record's timestamp and written once the minute has
// closed (CloudWatch aggregates metric-filter data per minute too): one
// sample per series per minute, dated at the minute's last millisecond (so
// that sum_over_time(m[1m]) at the next minute boundary, an alarm's
// period, holds it), whose value is the Sum statistic. Records that arrive
// for a minute already written are counted in the oldest minute still
// open. Sums not yet written when the process dies are lost (at most about
// a minute and a half); the log records themselves are not. After a
// restart, a record for a minute written before it is refused by the TSDB
// as a duplicate and counted in mirador_metric_filter_dropped_total.
//
// It imports the filter-pattern parser, the event store's record type and
// how package logs resolves a record's fields; the metrics engine only
// through the Appender function it is given.
package metricfilter
