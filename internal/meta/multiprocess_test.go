package meta

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// writerEnv makes the test binary, re-executed by
// TestTwoProcessesShareOneFile, act as the second process.
const writerEnv = "MIRADOR_META_TEST_WRITER"

const rowsPerProcess = 40

// writeRows opens path and inserts rowsPerProcess tenants prefixed by who.
func writeRows(path, who string) error {
	s, err := Open(context.Background(), Options{DSN: path})
	if err != nil {
		return err
	}
	defer s.Close()
	for i := 0; i < rowsPerProcess; i++ {
		if _, err := s.DB().Exec(`INSERT INTO tenants (id, created_at) VALUES ($1, $2)`, who+strconv.Itoa(i), i); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	return nil
}

// The server and a CLI command are two processes on one file; both may be
// the first to open it, and both write at once.
func TestTwoProcessesShareOneFile(t *testing.T) {
	if path := os.Getenv(writerEnv); path != "" {
		if err := writeRows(path, "child"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	path := filepath.Join(t.TempDir(), "meta.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessesShareOneFile$")
	cmd.Env = append(os.Environ(), writerEnv+"="+path)
	out := make(chan []byte, 1)
	errc := make(chan error, 1)
	go func() {
		b, err := cmd.CombinedOutput()
		out <- b
		errc <- err
	}()
	if err := writeRows(path, "parent"); err != nil {
		t.Errorf("parent: %v", err)
	}
	if b, err := <-out, <-errc; err != nil {
		t.Fatalf("child process: %v\n%s", err, b)
	}

	s := openTemp(t, path)
	var n int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1+2*rowsPerProcess {
		t.Errorf("tenants = %d, want %d (default + both processes' rows)", n, 1+2*rowsPerProcess)
	}
}
