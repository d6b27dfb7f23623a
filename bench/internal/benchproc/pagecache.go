package benchproc

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// ErrPageCacheUnsupported is returned by the page-cache functions on
// platforms other than linux/amd64 and linux/arm64, the only ones whose
// mincore and fadvise calls the driver uses.
var ErrPageCacheUnsupported = errors.New("page-cache residency and eviction are implemented for linux/amd64 and linux/arm64 only")

// PageCache is how much of a directory's files the kernel holds in its
// page cache.
type PageCache struct {
	Files         int   `json:"files"`
	Bytes         int64 `json:"bytes"`          // the files' total size
	ResidentBytes int64 `json:"resident_bytes"` // of which in the page cache
}

// PageCacheOf measures how much of each regular file under dir is in the
// page cache (mincore on a read-only mapping). It needs no privilege.
func PageCacheOf(dir string) (PageCache, error) {
	var pc PageCache
	err := walkFiles(dir, func(path string, size int64) error {
		r, err := residentBytes(path, size)
		if err != nil {
			return err
		}
		pc.Files++
		pc.Bytes += size
		pc.ResidentBytes += r
		return nil
	})
	return pc, err
}

// EvictPageCache asks the kernel to drop the cached pages of every regular
// file under dir: each file is synced, then advised POSIX_FADV_DONTNEED.
// Unlike writing to /proc/sys/vm/drop_caches it needs no root and touches
// nothing else on the machine, but it is advice: pages another process
// has mapped or locked stay. Measure with PageCacheOf what it achieved.
// No process should be writing to dir meanwhile.
func EvictPageCache(dir string) error {
	return walkFiles(dir, func(path string, _ int64) error { return evictFile(path) })
}

// walkFiles calls fn with every non-empty regular file under dir.
func walkFiles(dir string, fn func(path string, size int64) error) error {
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Size() == 0 {
			return nil
		}
		if err := fn(path, fi.Size()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("page cache of %s: %w", dir, err)
	}
	return nil
}
