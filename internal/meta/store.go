package meta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DriverSQLite is the embedded, pure-Go SQLite driver; the default.
const DriverSQLite = "sqlite"

// Drivers lists the values Options.Driver accepts.
var Drivers = []string{DriverSQLite}

// busyTimeoutMillis is how long a connection waits for another writer before
// failing with SQLITE_BUSY. The server and a CLI command (mirador keys create)
// may hold the same file open at once; writes are short, so waiting is right.
const busyTimeoutMillis = 10000

// ErrUnsupportedDriver is returned by Open for an Options.Driver it does not know.
var ErrUnsupportedDriver = errors.New("unsupported meta store driver")

// Options says which database holds the meta store. The zero Driver means
// SQLite.
type Options struct {
	// Driver is the SQL engine: "sqlite" (the default when empty).
	Driver string
	// DSN locates the database. For sqlite it is a file path; its parent
	// directory is created if missing.
	DSN string
}

// Store is an open meta store with an up-to-date schema. It is safe for
// concurrent use, and several Stores (in one process or several) may open the
// same SQLite file at once.
type Store struct {
	db     *sql.DB
	driver string
}

// Open opens the database described by opts and applies any migrations it has
// not yet seen. It refuses a database whose schema is newer than this binary
// knows (ErrSchemaTooNew).
func Open(ctx context.Context, opts Options) (*Store, error) {
	driver := opts.Driver
	if driver == "" {
		driver = DriverSQLite
	}
	if driver != DriverSQLite {
		return nil, fmt.Errorf("meta.driver %q: %w (valid: %s)",
			opts.Driver, ErrUnsupportedDriver, strings.Join(Drivers, ", "))
	}
	db, err := openSQLite(ctx, opts.DSN)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open meta store %s: %w", opts.DSN, err)
	}
	return &Store{db: db, driver: driver}, nil
}

func openSQLite(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("meta.dsn is empty: set it to the SQLite file path, e.g. ./mirador-data/meta.db")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("meta.dsn %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("create meta store directory: %w", err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("open meta store %s: %w", path, err)
	}
	// sql.Open is lazy; ping so a bad path fails here, naming the file.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open meta store %s: %w", path, err)
	}
	return db, nil
}

// sqliteDSN turns an absolute path into a modernc.org/sqlite URI with the
// pragmas every connection of the pool needs:
//   - busy_timeout so concurrent writers (server + CLI) wait instead of failing;
//   - WAL so readers never block the writer;
//   - foreign_keys, which SQLite leaves off by default;
//   - _txlock=immediate so a read-then-write transaction takes the write lock
//     at BEGIN: a deferred one can fail with SQLITE_BUSY when upgrading its
//     lock, and no busy timeout saves it.
//
// The path is escaped because a bare '?' or '#' in it would otherwise start
// the query string.
func sqliteDSN(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive paths: file:/C:/…
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// DB returns the database handle. Callers write portable SQL as the package
// documentation describes. It stays valid until Close.
func (s *Store) DB() *sql.DB { return s.db }

// Driver returns the engine behind the store, e.g. "sqlite".
func (s *Store) Driver() string { return s.driver }

// Close closes the database. Queries in flight fail afterwards.
func (s *Store) Close() error { return s.db.Close() }

// InTx runs fn in a transaction of db, committing if fn returns nil and
// rolling back otherwise.
func InTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Millis is t as the meta store keeps times: Unix milliseconds, with the
// zero time as 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis reads a time kept by Millis, in UTC; 0 is the zero time.
func FromMillis(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
