package meta

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"one", "CREATE TABLE a (x TEXT);\n", []string{"CREATE TABLE a (x TEXT);"}},
		{
			"multi-line statements and comments",
			"-- header; with a semicolon;\nCREATE TABLE a (\n    x TEXT -- inline\n);\n\nINSERT INTO a VALUES ('y');\n",
			[]string{"CREATE TABLE a (\n    x TEXT -- inline\n);", "INSERT INTO a VALUES ('y');"},
		},
		{"last statement without semicolon", "SELECT 1;\nSELECT 2", []string{"SELECT 1;", "SELECT 2"}},
		{"only comments", "-- nothing\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitStatements(tt.body); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitStatements = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		wantErr string
	}{
		{"numbered from one", []string{"0001_a.sql", "0002_b.sql"}, ""},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "0003_c.sql: want a name starting 0002_"},
		{"not starting at one", []string{"0002_b.sql"}, "want a name starting 0001_"},
		{"no number", []string{"init.sql"}, "init.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;\n")}
			}
			ms, err := loadMigrations(fsys)
			if tt.wantErr == "" {
				if err != nil || len(ms) != len(tt.files) {
					t.Fatalf("loadMigrations = %d migrations, %v; want %d, nil", len(ms), err, len(tt.files))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("loadMigrations error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].name != "0001_tenants_and_keys.sql" {
		t.Fatalf("embedded migrations = %+v", ms)
	}
}

// A migration that fails part-way leaves nothing behind, and the versions
// before it stay applied.
func TestFailedMigrationRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := openSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []migration{
		{version: 1, name: "0001_a.sql", statements: []string{"CREATE TABLE a (x TEXT);"}},
		{version: 2, name: "0002_b.sql", statements: []string{"CREATE TABLE b (x TEXT);", "INSERT INTO missing VALUES (1);"}},
	}
	err = applyMigrations(context.Background(), db, ms)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql, statement 2") {
		t.Fatalf("applyMigrations = %v, want an error naming 0002_b.sql, statement 2", err)
	}
	var version int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != 1 {
		t.Errorf("schema version = %d after failed migration 2, want 1", version)
	}
	var name string
	err = db.QueryRow(`SELECT name FROM sqlite_master WHERE name = 'b'`).Scan(&name)
	if err != sql.ErrNoRows {
		t.Errorf("table b from the failed migration exists (err=%v); want it rolled back", err)
	}
}
