package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestTornTailAtEveryOffsetOfTheLastRecord(t *testing.T) {
	// A crash can cut the last segment anywhere inside its last record.
	src := t.TempDir()
	w := mustOpen(t, src, Options{Sync: SyncNever})
	mustAppend(t, w, "alpha")
	mustAppend(t, w, "bravo")
	if _, err := w.Cut(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, "charlie")
	last := mustAppend(t, w, "delta, the record a crash tears")
	mustClose(t, w)
	seg0, err := os.ReadFile(segmentPath(src, 0))
	if err != nil {
		t.Fatal(err)
	}
	seg1, err := os.ReadFile(segmentPath(src, last.Segment))
	if err != nil {
		t.Fatal(err)
	}

	for cut := last.Offset; cut < int64(len(seg1)); cut++ {
		t.Run(fmt.Sprintf("cut at %d", cut), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(segmentPath(dir, 0), seg0, 0o600); err != nil {
				t.Fatal(err)
			}
			lastPath := segmentPath(dir, last.Segment)
			if err := os.WriteFile(lastPath, seg1[:cut], 0o600); err != nil {
				t.Fatal(err)
			}
			logger, logs := newLogger()
			w := mustOpen(t, dir, Options{Sync: SyncNever, Logger: logger})
			if got := payloads(replayAll(t, w)); !slices.Equal(got, []string{"alpha", "bravo", "charlie"}) {
				t.Fatalf("replayed %q", got)
			}
			dropped := cut - last.Offset
			warned := strings.Contains(logs.String(), "level=WARN")
			if dropped > 0 && (!warned || !strings.Contains(logs.String(), fmt.Sprintf("offset=%d bytes_dropped=%d", last.Offset, dropped))) {
				t.Errorf("no warning naming offset %d and %d dropped bytes; log:\n%s", last.Offset, dropped, logs)
			}
			if dropped == 0 && warned {
				t.Errorf("warned about a segment that ends cleanly:\n%s", logs)
			}
			if size := fileSize(t, lastPath); size != last.Offset {
				t.Errorf("last segment is %d bytes after replay, want it truncated to %d", size, last.Offset)
			}
			pos := mustAppend(t, w, "echo")
			if pos != last {
				t.Errorf("append after replay at %v, want %v, right after the last intact record", pos, last)
			}
			mustClose(t, w)
			if got := payloads(reopenAndReplay(t, dir)); !slices.Equal(got, []string{"alpha", "bravo", "charlie", "echo"}) {
				t.Errorf("after reopening: replayed %q", got)
			}
		})
	}
}

func TestCorruptRecordInANonLastSegmentEndsOnlyThatSegment(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(rec []byte) // rec is the whole middle record, header included
		reason  string
	}{
		{"flipped payload byte", func(r []byte) { r[headerSize+2] ^= 0x40 }, "checksum mismatch"},
		{"flipped checksum byte", func(r []byte) { r[5] ^= 0x01 }, "checksum mismatch"},
		{"length beyond the limit", func(r []byte) { binary.LittleEndian.PutUint32(r, MaxRecordSize+1) }, "above the"},
		{"length past the end of the file", func(r []byte) { binary.LittleEndian.PutUint32(r, 1<<20) }, "runs past the end"},
		{"zero length", func(r []byte) { binary.LittleEndian.PutUint32(r, 0) }, "zero length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := mustOpen(t, dir, Options{Sync: SyncNever})
			var middle Position
			for s := range 3 {
				for r := range 3 {
					pos := mustAppend(t, w, fmt.Sprintf("segment %d record %d", s, r))
					if s == 0 && r == 1 {
						middle = pos
					}
				}
				if _, err := w.Cut(); err != nil {
					t.Fatal(err)
				}
			}
			mustClose(t, w)

			path := segmentPath(dir, middle.Segment)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.corrupt(data[middle.Offset:])
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			logger, logs := newLogger()
			w = mustOpen(t, dir, Options{Sync: SyncNever, Logger: logger})
			got := payloads(replayAll(t, w))
			mustClose(t, w)
			want := []string{
				"segment 0 record 0",
				"segment 1 record 0", "segment 1 record 1", "segment 1 record 2",
				"segment 2 record 0", "segment 2 record 1", "segment 2 record 2",
			}
			if !slices.Equal(got, want) {
				t.Errorf("replayed %q\nwant %q", got, want)
			}
			for _, s := range []string{"level=WARN", path, fmt.Sprintf("offset=%d", middle.Offset), tt.reason} {
				if !strings.Contains(logs.String(), s) {
					t.Errorf("warning lacks %q:\n%s", s, logs)
				}
			}
			if size := fileSize(t, path); size != int64(len(data)) {
				t.Errorf("non-last segment changed from %d to %d bytes; only the last may be truncated", len(data), size)
			}
		})
	}
}

func TestZeroFilledTailIsDroppedNotReplayedAsEmptyRecords(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{Sync: SyncNever})
	mustAppend(t, w, "one")
	end := mustAppend(t, w, "two")
	mustClose(t, w)
	path := segmentPath(dir, end.Segment)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	logger, logs := newLogger()
	w = mustOpen(t, dir, Options{Sync: SyncNever, Logger: logger})
	if got := payloads(replayAll(t, w)); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("replayed %q", got)
	}
	mustClose(t, w)
	if !strings.Contains(logs.String(), "zero length") || !strings.Contains(logs.String(), "bytes_dropped=4096") {
		t.Errorf("warning does not name the zero-filled tail:\n%s", logs)
	}
}

func TestReplayOfARecordLargerThanTheReadBuffer(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{Sync: SyncNever})
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*replayReadBuffer/16+5)
	mustAppend(t, w, "small")
	mustAppend(t, w, string(big))
	mustAppend(t, w, "small again")
	mustClose(t, w)
	got := reopenAndReplay(t, dir)
	if len(got) != 3 || got[1].payload != string(big) || got[2].payload != "small again" {
		t.Errorf("replayed %d records; big one intact: %v", len(got), len(got) > 1 && got[1].payload == string(big))
	}
}

func TestReplayContract(t *testing.T) {
	errStop := errors.New("stop")
	withRecords := func(t *testing.T, opts Options, n int) string {
		dir := t.TempDir()
		w := mustOpen(t, dir, opts)
		for i := range n {
			mustAppend(t, w, fmt.Sprintf("record %d", i))
		}
		mustClose(t, w)
		return dir
	}

	t.Run("an error from fn stops replay and is returned", func(t *testing.T) {
		w := mustOpen(t, withRecords(t, Options{}, 5), Options{})
		defer mustClose(t, w)
		calls := 0
		err := w.Replay(func(Position, []byte) error {
			calls++
			if calls == 2 {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) || calls != 2 {
			t.Errorf("Replay = %v after %d calls, want errStop after 2", err, calls)
		}
	})
	t.Run("a second Replay is refused", func(t *testing.T) {
		w := mustOpen(t, withRecords(t, Options{}, 1), Options{})
		defer mustClose(t, w)
		replayAll(t, w)
		if err := w.Replay(func(Position, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("second Replay: %v", err)
		}
	})
	t.Run("Replay after Append is refused", func(t *testing.T) {
		w := mustOpen(t, withRecords(t, Options{}, 1), Options{})
		defer mustClose(t, w)
		mustAppend(t, w, "x")
		if err := w.Replay(func(Position, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "after Append") {
			t.Errorf("Replay after Append: %v", err)
		}
	})
	t.Run("appends continue in the last segment when it has room", func(t *testing.T) {
		dir := withRecords(t, Options{}, 3)
		size := fileSize(t, segmentPath(dir, 0))
		w := mustOpen(t, dir, Options{})
		replayAll(t, w)
		if pos := mustAppend(t, w, "more"); pos != (Position{0, size}) {
			t.Errorf("append after replay at %v, want 0:%d", pos, size)
		}
		mustClose(t, w)
		if got := len(reopenAndReplay(t, dir)); got != 4 {
			t.Errorf("replayed %d records, want 4", got)
		}
	})
	t.Run("appends start a new segment when the last is full", func(t *testing.T) {
		dir := withRecords(t, Options{SegmentSize: 16}, 3)
		w := mustOpen(t, dir, Options{SegmentSize: 16})
		replayAll(t, w)
		if pos := mustAppend(t, w, "more"); pos != (Position{3, 0}) {
			t.Errorf("append after replay at %v, want 3:0", pos)
		}
		mustClose(t, w)
	})
	t.Run("without Replay appends start a new segment", func(t *testing.T) {
		dir := withRecords(t, Options{}, 2)
		w := mustOpen(t, dir, Options{})
		if pos := mustAppend(t, w, "more"); pos != (Position{1, 0}) {
			t.Errorf("append at %v, want 1:0", pos)
		}
		mustClose(t, w)
		if got := len(reopenAndReplay(t, dir)); got != 3 {
			t.Errorf("replayed %d records, want 3", got)
		}
	})
	t.Run("an empty directory replays nothing", func(t *testing.T) {
		w := mustOpen(t, t.TempDir(), Options{})
		defer mustClose(t, w)
		if got := replayAll(t, w); len(got) != 0 {
			t.Errorf("replayed %v", got)
		}
	})
}

// FuzzReplay writes arbitrary bytes as a segment file. Replay must never
// panic or fail, must return exactly the intact prefix, and must leave the
// segment so that a later append replays after it.
func FuzzReplay(f *testing.F) {
	valid := slices.Concat(encodeRecord([]byte("first")), encodeRecord([]byte("second")), encodeRecord(bytes.Repeat([]byte{7}, 300)))
	f.Add([]byte{})
	f.Add(valid)
	f.Add(valid[:len(valid)-1])                         // torn payload
	f.Add(valid[:len(encodeRecord([]byte("first")))+5]) // torn header
	f.Add(slices.Concat(valid, make([]byte, 64)))       // zero-filled tail
	badCRC := slices.Clone(valid)
	badCRC[6] ^= 0xff
	f.Add(badCRC)
	f.Add(slices.Concat(encodeRecord([]byte("ok")), []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})) // huge length
	f.Add(slices.Concat(encodeRecord([]byte("ok")), []byte{10, 0, 0, 0, 1, 2, 3, 4, 'a'}))       // length past EOF

	f.Fuzz(func(t *testing.T, data []byte) {
		wantRecs, end := intactPrefix(data)
		dir := t.TempDir()
		path := segmentPath(dir, 0)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := Open(dir, Options{Sync: SyncNever, SegmentSize: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var wantOff int64
		err = w.Replay(func(pos Position, payload []byte) error {
			if pos != (Position{0, wantOff}) {
				t.Errorf("record at %v, want 0:%d", pos, wantOff)
			}
			wantOff += headerSize + int64(len(payload))
			got = append(got, string(payload))
			return nil
		})
		if err != nil {
			t.Fatalf("Replay of corrupt input failed: %v", err)
		}
		if !slices.Equal(got, wantRecs) {
			t.Fatalf("replayed %q, want the intact prefix %q", got, wantRecs)
		}
		if size := fileSize(t, path); size != int64(end) {
			t.Fatalf("segment is %d bytes after replay, want %d (the intact prefix)", size, end)
		}
		if _, err := w.Append(t.Context(), []byte("appended")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := payloads(reopenAndReplay(t, dir)); !slices.Equal(got, append(wantRecs, "appended")) {
			t.Fatalf("after an append: replayed %q", got)
		}
	})
}
