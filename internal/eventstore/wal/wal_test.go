package wal

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func replayAll(t *testing.T, w *WAL) [][]byte {
	t.Helper()
	var got [][]byte
	if err := w.Replay(func(_ Position, p []byte) error {
		got = append(got, bytes.Clone(p))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAppendReplayAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{SegmentSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var last Position
	for i := range 20 {
		pos, err := w.Append(context.Background(), []byte(fmt.Sprintf("record-%02d-%s", i, strings.Repeat("x", i))))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && !last.Less(pos) {
			t.Fatalf("position %v not after %v", pos, last)
		}
		last = pos
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(context.Background(), []byte("x")); err != ErrClosed {
		t.Fatalf("append after close: %v", err)
	}
	w2, _ := Open(dir, Options{})
	defer w2.Close()
	if n := len(w2.Segments()); n < 5 {
		t.Errorf("only %d segments of 100 bytes for 20 records", n)
	}
	got := replayAll(t, w2)
	if len(got) != 20 || !strings.HasPrefix(string(got[19]), "record-19-") {
		t.Fatalf("replayed %d records", len(got))
	}
}

func TestConcurrentAppendsReplayExactlyOnceInOrder(t *testing.T) {
	for _, policy := range []Policy{SyncAlways, SyncInterval, SyncNever} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			dir := t.TempDir()
			w, _ := Open(dir, Options{SegmentSize: 4 << 10, Sync: policy})
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 100 {
						if _, err := w.Append(context.Background(), []byte(fmt.Sprintf("%d:%d", g, i))); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			w.Close()
			w2, _ := Open(dir, Options{})
			defer w2.Close()
			next := map[int]int{}
			for _, p := range replayAll(t, w2) {
				var g, i int
				fmt.Sscanf(string(p), "%d:%d", &g, &i)
				if i != next[g] {
					t.Fatalf("goroutine %d: record %d after %d", g, i, next[g]-1)
				}
				next[g]++
			}
			for g := range 8 {
				if next[g] != 100 {
					t.Errorf("goroutine %d: %d records replayed", g, next[g])
				}
			}
		})
	}
}

func TestTornTailIsSkippedAndTruncated(t *testing.T) {
	base := t.TempDir()
	w, _ := Open(base, Options{})
	for i := range 3 {
		w.Append(context.Background(), []byte(fmt.Sprintf("payload-%d", i)))
	}
	w.Close()
	seg := segmentName(base, 0)
	full, _ := os.ReadFile(seg)
	lastLen := headerSize + len("payload-2")
	for cut := len(full) - lastLen; cut < len(full); cut++ {
		dir := t.TempDir()
		if err := os.WriteFile(segmentName(dir, 0), full[:cut], 0o640); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		w, _ := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		got := replayAll(t, w)
		if len(got) != 2 {
			t.Fatalf("cut at %d: %d records", cut, len(got))
		}
		if cut > len(full)-lastLen && !strings.Contains(logs.String(), "torn or corrupt") {
			t.Errorf("cut at %d: no warning logged: %s", cut, logs.String())
		}
		if _, err := w.Append(context.Background(), []byte("after")); err != nil {
			t.Fatal(err)
		}
		w.Close()
		w2, _ := Open(dir, Options{})
		if got := replayAll(t, w2); len(got) != 3 || string(got[2]) != "after" {
			t.Fatalf("cut at %d: after reopen %q", cut, got)
		}
		w2.Close()
	}
}

func TestCorruptionInAnEarlierSegmentKeepsLaterSegments(t *testing.T) {
	dir := t.TempDir()
	w, _ := Open(dir, Options{})
	w.Append(context.Background(), []byte("a1"))
	w.Append(context.Background(), []byte("a2"))
	w.Cut()
	w.Append(context.Background(), []byte("b1"))
	w.Close()
	data, _ := os.ReadFile(segmentName(dir, 0))
	data[len(data)-1] ^= 0xff // flip a byte of a2
	os.WriteFile(segmentName(dir, 0), data, 0o640)
	w2, _ := Open(dir, Options{})
	defer w2.Close()
	if got := replayAll(t, w2); len(got) != 2 || string(got[0]) != "a1" || string(got[1]) != "b1" {
		t.Fatalf("replayed %q", got)
	}
}

func TestCutAndTruncate(t *testing.T) {
	dir := t.TempDir()
	w, _ := Open(dir, Options{})
	defer w.Close()
	w.Append(context.Background(), []byte("old"))
	next, err := w.Cut()
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := w.Append(context.Background(), []byte("new"))
	if pos.Segment != next {
		t.Fatalf("append after cut went to segment %d, want %d", pos.Segment, next)
	}
	if err := w.Truncate(next + 10); err != nil { // never the current segment
		t.Fatal(err)
	}
	if segs := w.Segments(); len(segs) != 1 || segs[0] != next {
		t.Fatalf("segments after truncate: %v", segs)
	}
	if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%010d.wal", next))); err != nil {
		t.Fatal(err)
	}
}

// FuzzReplay replays arbitrary bytes as a segment: it never fails or
// panics, and replays exactly the intact prefix.
func FuzzReplay(f *testing.F) {
	seed := t0Segment()
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.WriteFile(segmentName(dir, 0), data, 0o640)
		w, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		var n int64
		err = w.Replay(func(pos Position, p []byte) error {
			if pos.Offset != n {
				t.Fatalf("record at %d, want %d", pos.Offset, n)
			}
			n += headerSize + int64(len(p))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(segmentName(dir, 0)); fi.Size() != n {
			t.Fatalf("segment is %d bytes after replay, intact prefix %d", fi.Size(), n)
		}
	})
}

func t0Segment() []byte {
	dir, _ := os.MkdirTemp("", "walseed")
	defer os.RemoveAll(dir)
	w, _ := Open(dir, Options{})
	w.Append(context.Background(), []byte("first"))
	w.Append(context.Background(), []byte("second record"))
	w.Close()
	b, _ := os.ReadFile(segmentName(dir, 0))
	return b
}
