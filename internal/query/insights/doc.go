// Package insights parses the CloudWatch Logs Insights query language into
// the commands of package query: fields, display, filter, stats … by,
// sort, limit, parse (glob and regex), dedup, with '|' between commands and
// '#' comments. Compile returns the runnable plan; errors give the line,
// the column and what was expected.
package insights
