// Package logql parses LogQL, Loki's query language, into a syntax tree:
// log queries (a stream selector and a pipeline of line filters, parsers,
// label filters and formatters) and metric queries (range aggregations,
// unwrapped ranges, vector aggregations, binary operations). Errors give
// the line, column and what was expected, as Loki's do.
//
// It is a parser only; compiling a query onto the event query plan is the
// caller's. It imports nothing of Mirador's.
package logql
