// Package query is the event query engine: the plan every front end
// compiles to (Logs Insights now; filter patterns use its predicate plan;
// LogQL and trace search later), its expression evaluator and the executor
// that runs a plan over the event store's Scan.
//
// A plan has row-local stages (filter, fields, parse) that run inside the
// scan's parallel visitors, an optional stats stage aggregated per visitor
// and merged, and result stages (sort, limit, dedup, display, and commands
// after stats) run once on the merged rows. Without stats, each visitor
// keeps only a bounded top-N by the sort key, so memory never grows with
// the data scanned.
//
// Field names resolve, in order: fields made earlier in the pipeline
// (fields … as x, parse), system fields (@timestamp, @message, @logStream,
// @log, @ingestionTime, @traceId, @spanId, @severityNumber), the severity
// aliases level, severity and @level (always the record's severity text),
// then the record's attributes, its resource attributes, and the fields of
// a JSON body flattened with dots (arrays as .0, .1; a key that itself
// starts with @ is reached with one more @).
//
// It imports the event store (records and scans) and nothing above it.
package query
