package meta

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrSchemaTooNew is returned by Open for a database last migrated by a newer
// Mirador than this one.
var ErrSchemaTooNew = errors.New("meta store schema is newer than this mirador")

type schemaTooNewError struct{ found, known int }

func (e *schemaTooNewError) Error() string {
	return fmt.Sprintf("meta store schema version %d is newer than this mirador (knows %d): upgrade mirador", e.found, e.known)
}

func (e *schemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// Migrations are files named NNNN_what.sql, numbered from 0001 without gaps
// and never edited once released: a change is a new file. Each runs in its
// own transaction. Statements end with ';' at the end of a line; a statement
// may use $1, bound to the time the migration is applied in unix
// milliseconds. Write SQL that SQLite and PostgreSQL both accept.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version    int
	name       string
	statements []string
}

// loadMigrations parses fsys's migrations/ directory and checks the numbering.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	ms := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting %04d_", base, i+1)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, statements: splitStatements(string(body))})
	}
	return ms, nil
}

// splitStatements splits a migration at lines ending in ';', dropping
// whole-line "--" comments. Executing statements one by one (rather than the
// file in one Exec) is what PostgreSQL's extended protocol needs once a
// statement has a parameter, and lets an error name the statement.
func splitStatements(body string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

// migrate brings db's schema up to the newest embedded migration.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return err
	}
	return applyMigrations(ctx, db, ms)
}

func applyMigrations(ctx context.Context, db *sql.DB, ms []migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at BIGINT NOT NULL
)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	// The version is re-read inside each migration's transaction, which holds
	// the write lock from BEGIN (_txlock=immediate): two processes opening a
	// fresh file at once apply each migration exactly once.
	current, err := schemaVersion(ctx, db, len(ms))
	if err != nil {
		return err
	}
	for _, m := range ms[current:] {
		if err := applyMigration(ctx, db, m, len(ms)); err != nil {
			return err
		}
	}
	return nil
}

// schemaVersion returns the newest applied version, or ErrSchemaTooNew when it
// is beyond known.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, known int) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v > known {
		return v, &schemaTooNewError{found: v, known: known}
	}
	return v, nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, known int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback() // no-op after Commit
	current, err := schemaVersion(ctx, tx, known)
	if err != nil {
		return err
	}
	if current >= m.version {
		return nil
	}
	now := time.Now().UnixMilli()
	for i, stmt := range m.statements {
		var args []any
		if strings.Contains(stmt, "$1") {
			args = []any{now}
		}
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("migration %s, statement %d: %w", m.name, i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, now); err != nil {
		return fmt.Errorf("migration %s: record version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}
