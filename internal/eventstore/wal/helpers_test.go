package wal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// replayed is one record seen by Replay.
type replayed struct {
	pos     Position
	payload string
}

func mustOpen(t testing.TB, dir string, opts Options) *WAL {
	t.Helper()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return w
}

func mustAppend(t testing.TB, w *WAL, payload string) Position {
	t.Helper()
	pos, err := w.Append(context.Background(), []byte(payload))
	if err != nil {
		t.Fatalf("Append(%q): %v", payload, err)
	}
	return pos
}

func mustClose(t testing.TB, w *WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// replayAll replays w, copying every payload.
func replayAll(t testing.TB, w *WAL) []replayed {
	t.Helper()
	var got []replayed
	err := w.Replay(func(pos Position, payload []byte) error {
		got = append(got, replayed{pos, string(payload)})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return got
}

// reopenAndReplay opens dir afresh, replays it and closes it.
func reopenAndReplay(t testing.TB, dir string) []replayed {
	t.Helper()
	w := mustOpen(t, dir, Options{Sync: SyncNever})
	defer mustClose(t, w)
	return replayAll(t, w)
}

func payloads(rs []replayed) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.payload
	}
	return out
}

// encodeRecord frames payload as Append does, independently of the code
// under test.
func encodeRecord(payload []byte) []byte {
	out := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(out, uint32(len(payload)))
	binary.LittleEndian.PutUint32(out[4:], crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, payload...)
}

// intactPrefix decodes the records at the start of a segment image up to the
// first one that is not whole and intact.
func intactPrefix(data []byte) (recs []string, end int) {
	table := crc32.MakeTable(crc32.Castagnoli)
	for len(data)-end >= 8 {
		n := binary.LittleEndian.Uint32(data[end:])
		if n == 0 || n > MaxRecordSize || int64(n) > int64(len(data)-end-8) {
			break
		}
		p := data[end+8 : end+8+int(n)]
		if crc32.Checksum(p, table) != binary.LittleEndian.Uint32(data[end+4:]) {
			break
		}
		recs = append(recs, string(p))
		end += 8 + int(n)
	}
	return recs, end
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// faultyFile wraps a segment file to fail or stall writes and fsyncs.
type faultyFile struct {
	segmentFile
	faults *faults
}

type faults struct {
	writeErr atomic.Pointer[error]
	syncErr  atomic.Pointer[error]
	// syncGate, when set, makes Sync wait until it is closed.
	syncGate chan struct{}
	writes   atomic.Int32
	syncs    atomic.Int32
}

func (f *faultyFile) Write(p []byte) (int, error) {
	f.faults.writes.Add(1)
	if err := f.faults.writeErr.Load(); err != nil {
		// A short write, as a full disk produces.
		n, _ := f.segmentFile.Write(p[:len(p)/2])
		return n, *err
	}
	return f.segmentFile.Write(p)
}

func (f *faultyFile) Sync() error {
	f.faults.syncs.Add(1)
	if f.faults.syncGate != nil {
		<-f.faults.syncGate
	}
	if err := f.faults.syncErr.Load(); err != nil {
		return *err
	}
	return f.segmentFile.Sync()
}

// injectFaults makes w create its segments through faultyFile. Call it
// before the first Append.
func injectFaults(w *WAL, fs *faults) {
	w.openSegment = func(path string) (segmentFile, error) {
		f, err := createSegment(path)
		if err != nil {
			return nil, err
		}
		return &faultyFile{segmentFile: f, faults: fs}, nil
	}
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitQueued waits until n appends are buffered behind the flusher.
func waitQueued(t *testing.T, w *WAL, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d queued appends", n), func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.queued >= n
	})
}

// waitSyncing waits until a Sync call has begun.
func waitSyncing(t *testing.T, fs *faults) {
	t.Helper()
	waitFor(t, "an fsync", func() bool { return fs.syncs.Load() > 0 })
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func segmentFiles(t *testing.T, dir string) []int {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}
