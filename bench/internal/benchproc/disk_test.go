package benchproc

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDirSizeSumsRegularFilesRecursively(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), 100)
	writeFile(t, filepath.Join(dir, "parts", "b"), 2000)
	writeFile(t, filepath.Join(dir, "parts", "deeper", "c"), 30)
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	n, err := DirSize(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2130 {
		t.Errorf("DirSize = %d, want 2130 (symlinks not followed)", n)
	}
	if _, err := DirSize(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("a missing directory is empty, got %v", err)
	}
}

func TestEvictPageCacheDropsAFilesPages(t *testing.T) {
	dir := t.TempDir()
	const size = 8 << 20
	writeFile(t, filepath.Join(dir, "data", "part"), size)
	writeFile(t, filepath.Join(dir, "empty"), 0)
	if _, err := os.ReadFile(filepath.Join(dir, "data", "part")); err != nil {
		t.Fatal(err)
	}
	before, err := PageCacheOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if before.Files != 1 || before.Bytes != size {
		t.Fatalf("PageCacheOf = %+v, want the one non-empty file of %d bytes", before, size)
	}
	if before.ResidentBytes == 0 {
		t.Skip("the file just written and read is not in the page cache: this file system bypasses it")
	}
	if err := EvictPageCache(dir); err != nil {
		t.Fatal(err)
	}
	after, err := PageCacheOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if after.ResidentBytes == before.ResidentBytes {
		t.Skipf("eviction left all %d resident bytes: the file system (tmpfs?) ignores POSIX_FADV_DONTNEED", after.ResidentBytes)
	}
	if after.ResidentBytes > size/8 {
		t.Errorf("%d of %d bytes still resident after eviction", after.ResidentBytes, size)
	}
}
