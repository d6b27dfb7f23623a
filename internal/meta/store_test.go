package meta

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTemp(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DSN: path})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenFreshFileAppliesSchema(t *testing.T) {
	before := time.Now().UnixMilli()
	path := filepath.Join(t.TempDir(), "missing", "parent", "meta.db")
	s := openTemp(t, path)
	db := s.DB()

	var version int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if want := knownVersion(t); version != want {
		t.Errorf("schema version = %d, want %d", version, want)
	}
	var created int64
	if err := db.QueryRow(`SELECT created_at FROM tenants WHERE id = 'default'`).Scan(&created); err != nil {
		t.Fatalf("default tenant: %v", err)
	}
	if created < before || created > time.Now().UnixMilli() {
		t.Errorf("default tenant created_at = %d, want the unix-ms time of Open (>= %d)", created, before)
	}
	if _, err := db.Exec(`INSERT INTO api_keys (id, tenant_id, name, scopes, secret_hash, created_at) VALUES ('k1', 'default', 'n', 'read', 'h1', 1)`); err != nil {
		t.Fatalf("api_keys insert: %v", err)
	}
}

func TestOpenSetsConnectionPragmas(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	ctx := context.Background()
	// Hold several connections at once so the pragmas are checked on more
	// than the pool's first one.
	for i := 0; i < 3; i++ {
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var fk, busy int
		if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy < 5000 {
			t.Errorf("conn %d: journal_mode=%s foreign_keys=%d busy_timeout=%d; want wal, 1, >=5000", i, mode, fk, busy)
		}
	}
}

func TestForeignKeysAreEnforced(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	_, err := s.DB().Exec(`INSERT INTO api_keys (id, tenant_id, name, scopes, secret_hash, created_at) VALUES ('k1', 'nope', 'n', 'read', 'h1', 1)`)
	if err == nil {
		t.Fatal("insert of a key for a missing tenant succeeded; foreign keys are off")
	}
}

func TestReopenIsNoOp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(context.Background(), Options{Driver: "sqlite", DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`INSERT INTO tenants (id, created_at) VALUES ($1, $2)`, "acme", 42); err != nil {
		t.Fatal(err)
	}
	snapshot := func(s *Store) string {
		rows, err := s.DB().Query(`SELECT 'm', version, applied_at FROM schema_migrations UNION ALL SELECT id, 0, created_at FROM tenants ORDER BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var id string
			var v, at int64
			if err := rows.Scan(&id, &v, &at); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %d %d\n", id, v, at)
		}
		return b.String()
	}
	first := snapshot(s)
	s.Close()

	s2 := openTemp(t, path)
	if again := snapshot(s2); again != first {
		t.Errorf("reopen changed the store:\nbefore:\n%s\nafter:\n%s", first, again)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(context.Background(), Options{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (7, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(context.Background(), Options{DSN: path})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{"version 7", fmt.Sprintf("knows %d", knownVersion(t)), "upgrade mirador"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantIs  error
		mention []string
	}{
		{"unknown driver", Options{Driver: "oracle", DSN: "x.db"}, ErrUnsupportedDriver, []string{"meta.driver", `"oracle"`, "sqlite"}},
		{"empty dsn", Options{}, nil, []string{"meta.dsn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Open = %v, want errors.Is %v", err, tt.wantIs)
			}
			for _, want := range tt.mention {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %s", err, want)
				}
			}
		})
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?x=1#frag%20", "meta.db")
	s := openTemp(t, path)
	var file string
	if err := s.DB().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	if file != path {
		t.Errorf("database file = %q, want %q", file, path)
	}
}

// The server and a CLI command open the same file at once, both may be the
// first to open it, and both write.
func TestTwoStoresOnOneFileBothWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	ctx := context.Background()

	stores := make([]*Store, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, Options{DSN: path})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}

	const perStore = 25
	errc := make(chan error, 2*perStore)
	for i, s := range stores {
		for j := 0; j < perStore; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Read then write in one transaction: the pattern that fails
				// with SQLITE_BUSY under deferred locking.
				tx, err := s.DB().BeginTx(ctx, nil)
				if err != nil {
					errc <- err
					return
				}
				defer tx.Rollback()
				var n int
				if err := tx.QueryRow(`SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
					errc <- err
					return
				}
				if _, err := tx.Exec(`INSERT INTO tenants (id, created_at) VALUES ($1, $2)`, fmt.Sprintf("s%d-%d", i, j), n); err != nil {
					errc <- err
					return
				}
				errc <- tx.Commit()
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("write: %v", err)
		}
	}
	var n, versions int
	if err := stores[0].DB().QueryRow(`SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1+2*perStore {
		t.Errorf("tenants = %d, want %d", n, 1+2*perStore)
	}
	if err := stores[1].DB().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if want := knownVersion(t); versions != want {
		t.Errorf("schema_migrations has %d rows after two concurrent first opens, want %d", versions, want)
	}
}

// Callers write $1, $2, … for both SQLite and PostgreSQL; this pins that the
// SQLite driver binds them by number, not by order of appearance.
func TestPlaceholdersBindByNumber(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	var a, b, c string
	if err := s.DB().QueryRow(`SELECT $2, $1, $2 || $1`, "one", "two").Scan(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if a != "two" || b != "one" || c != "twoone" {
		t.Errorf("SELECT $2, $1, $2 || $1 = %q, %q, %q; want two, one, twoone", a, b, c)
	}
}

// knownVersion is the number of migrations this binary embeds.
func knownVersion(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}
