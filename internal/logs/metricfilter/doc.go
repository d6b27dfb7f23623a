// Package metricfilter turns log records into metrics as CloudWatch Logs
// metric filters do: a filter pattern over a log group's records and one
// metric transformation (name, namespace, a value that is a literal or a
// field the pattern extracts, an optional default value, up to three
// dimensions from fields), applied at ingest, never retroactively.
//
// Files: filter.go (definition, CloudWatch's validation), series.go (the
// series a filter feeds), store.go (definitions in the meta store, cached
// compiled per tenant), applier.go (matching and summing at ingest),
// flush.go (writing sums to the TSDB), testfilter.go (TestMetricFilter).
//
// Each series is labelled __name__ (the metric name, made a valid
// Prometheus name by SeriesName), namespace, log_group, metric_filter and
// one label per dimension found in the record.
//
// The TSDB holds one sample per series and timestamp, so values are
// summed per minute of the record's timestamp (CloudWatch aggregates
// metric-filter data per minute too) and written once the minute has
// closed, its end plus a grace for records in flight: one sample per
// series and minute, whose value is CloudWatch's Sum statistic, dated at
// the minute's last millisecond so that a range ending at the next minute
// boundary (sum_over_time(m[1m]) there, an alarm's period) holds it. A
// record of a minute whose sum a series has already written counts in
// the oldest minute still open instead, which keeps the series in time
// order; records of a closed minute not yet written keep their minute.
// With defaultValue, each record of the group that does not match adds
// it, so minutes with records but no match report it rather than nothing.
//
// Limits: a filter feeds at most ApplierOptions.MaxSeriesPerFilter (1,000)
// dimension combinations per hour of the server's clock; records that
// would add more are dropped and counted in
// mirador_metric_filter_dropped_total. A series is forgotten after an hour
// without records.
//
// Not durable: sums not yet written when the process dies (at most about
// a minute) are lost and not replayed from the log records, which are
// kept. On a graceful stop the open minutes are written partial; after a
// restart, more records of such a minute make a second sample at the
// same timestamp, which the TSDB refuses (counted as refused).
//
// It imports the filter-pattern parser, the event store's record type,
// package logs for how a record's fields resolve, and the meta store; the
// metrics engine only through the AppenderFunc it is given. Package logs
// sees the Applier only as a logs.RecordObserver.
package metricfilter
