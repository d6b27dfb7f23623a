// Package meta owns Mirador's control-plane state in SQL: tenants and API keys
// now, and later alarms, rule groups, topics, subscriptions, dashboards and the
// rest of what is small, relational and edited by people rather than streamed.
//
// A Store is an open database plus its schema, brought up to date by the
// versioned migrations embedded under migrations/. SQLite (pure Go, through
// modernc.org/sqlite, so CGO stays off) is the only driver today; PostgreSQL is
// meant to slot in behind Options.Driver without touching callers. To keep that
// promise, callers write SQL both engines accept:
//
//   - placeholders are $1, $2, …, bound by number (SQLite and PostgreSQL both
//     do; a placeholder may repeat or appear out of order);
//   - types are TEXT, INTEGER and BIGINT; timestamps are BIGINT unix
//     milliseconds (INTEGER is 32 bits in PostgreSQL);
//   - "INSERT … ON CONFLICT (col) DO NOTHING" plus RowsAffected, rather than
//     driver-specific unique-violation codes, detects duplicates.
//
// This package imports nothing of Mirador's: it knows tables, not tenants.
package meta
