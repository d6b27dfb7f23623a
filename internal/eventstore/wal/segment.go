package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// segmentFile is the part of *os.File the flusher writes through; tests
// substitute it to inject write and fsync failures.
type segmentFile interface {
	io.Writer
	Sync() error
	Close() error
}

// createSegment creates a new, empty segment file. It fails if the file
// already exists, so a bug in index bookkeeping can never overwrite a log.
func createSegment(path string) (segmentFile, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
}

func segmentPath(dir string, idx int) string {
	return filepath.Join(dir, fmt.Sprintf("%010d.wal", idx))
}

// listSegments returns the indexes of the segment files in dir, ascending.
// Other files are ignored.
func listSegments(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list WAL directory %s: %w", dir, err)
	}
	var segs []int
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".wal")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if n, err := strconv.Atoi(name); err == nil && n >= 0 {
			segs = append(segs, n)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// syncDir makes a file creation or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open WAL directory %s for fsync: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync WAL directory %s: %w", dir, err)
	}
	return nil
}

// Truncate deletes every segment file whose index is below before, except
// the segment receiving appends, which is never deleted. Call it once the
// records of those segments are stored elsewhere. It is safe for concurrent
// use; a Replay running at the same time may fail to read a deleted segment.
func (w *WAL) Truncate(before int) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	limit := before
	if w.curSeg >= 0 {
		limit = min(limit, w.curSeg)
	}
	if w.logHasFile {
		limit = min(limit, w.logSeg)
	}
	var doomed []int
	for _, s := range w.segments {
		if s < limit {
			doomed = append(doomed, s)
		}
	}
	w.mu.Unlock()
	if len(doomed) == 0 {
		return nil
	}

	var errs []error
	removed := make(map[int]bool, len(doomed))
	for _, s := range doomed {
		err := os.Remove(segmentPath(w.dir, s))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove WAL segment: %w", err))
			continue
		}
		removed[s] = true
	}
	w.mu.Lock()
	w.segments = slices.DeleteFunc(w.segments, func(s int) bool { return removed[s] })
	w.metrics.segments.Set(float64(len(w.segments)))
	w.mu.Unlock()
	// Without this a crash could bring deleted segments back; replaying them
	// again would be harmless to a caller that tracks what it has stored, but
	// it wastes the work Truncate was asked to save.
	if err := syncDir(w.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Segments returns the indexes of the segment files on disk, ascending. The
// slice is the caller's. It is safe for concurrent use.
func (w *WAL) Segments() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.segments)
}
