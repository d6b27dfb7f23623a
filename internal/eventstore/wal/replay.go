package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
)

// replayReadBuffer is the read-ahead of Replay: large enough that reading a
// segment costs few system calls, small enough to be negligible memory.
const replayReadBuffer = 1 << 20

// Replay calls fn with every intact record of every segment, oldest first.
// The payload slice is valid only during the call. Call Replay at most once,
// before the first Append; it must not run concurrently with other methods
// that change the segments (Cut, Truncate).
//
// A torn or corrupt record — a short header, a zero length or one above
// MaxRecordSize, a length running past the end of the file, a checksum
// mismatch — ends the replay of its segment: Replay logs a warning with the
// segment, offset and bytes dropped, counts it in
// mirador_eventstore_wal_corrupt_records_total and goes on with the next
// segment. In the last segment, the one a crash can leave torn, it truncates
// the file after the last intact record and appends continue there, after
// good data. Corruption never makes Replay fail; only I/O errors and errors
// returned by fn do, and fn's error is returned wrapped (errors.Is works).
func (w *WAL) Replay(fn func(pos Position, payload []byte) error) error {
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		return ErrClosed
	case w.replayed:
		w.mu.Unlock()
		return errors.New("wal: Replay called twice: it may run once, right after Open")
	case w.logHasFile:
		w.mu.Unlock()
		return errors.New("wal: Replay called after Append or Cut: it must run first, right after Open")
	}
	w.replayed = true
	segs := slices.Clone(w.segments)
	w.mu.Unlock()

	r := replayer{w: w, br: bufio.NewReaderSize(nil, replayReadBuffer)}
	for i, seg := range segs {
		last := i == len(segs)-1
		end, size, err := r.segment(seg, fn)
		if err != nil {
			return err
		}
		if last {
			if err := w.resumeLast(seg, end, size); err != nil {
				return err
			}
		}
	}
	return nil
}

type replayer struct {
	w       *WAL
	br      *bufio.Reader
	payload []byte // reused for every record; grows to the largest
}

// segment replays one segment. It returns the end of its intact prefix and
// the file's size; they differ when a torn or corrupt record ended it.
func (r *replayer) segment(seg int, fn func(Position, []byte) error) (end, size int64, err error) {
	path := segmentPath(r.w.dir, seg)
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("replay WAL segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("replay WAL segment: %w", err)
	}
	size = st.Size()
	r.br.Reset(f)
	var hdr [headerSize]byte
	for end < size {
		if size-end < headerSize {
			r.corrupt(path, end, size, "short header")
			return end, size, nil
		}
		if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
			return 0, 0, fmt.Errorf("replay WAL segment %s at offset %d: read header: %w", path, end, err)
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		switch {
		case n == 0:
			r.corrupt(path, end, size, "zero length")
			return end, size, nil
		case n > MaxRecordSize:
			r.corrupt(path, end, size, fmt.Sprintf("length %d above the %d-byte limit", n, MaxRecordSize))
			return end, size, nil
		case int64(n) > size-end-headerSize:
			r.corrupt(path, end, size, fmt.Sprintf("length %d runs past the end of the segment", n))
			return end, size, nil
		}
		r.payload = slices.Grow(r.payload[:0], int(n))[:n]
		if _, err := io.ReadFull(r.br, r.payload); err != nil {
			return 0, 0, fmt.Errorf("replay WAL segment %s at offset %d: read payload: %w", path, end, err)
		}
		if crc32.Checksum(r.payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			r.corrupt(path, end, size, "checksum mismatch")
			return end, size, nil
		}
		if err := fn(Position{Segment: seg, Offset: end}, r.payload); err != nil {
			return 0, 0, fmt.Errorf("replay WAL record %d:%d: %w", seg, end, err)
		}
		end += headerSize + int64(n)
	}
	return end, size, nil
}

func (r *replayer) corrupt(path string, off, size int64, why string) {
	r.w.metrics.corrupt.Inc()
	r.w.opts.Logger.Warn("dropping the rest of a WAL segment after a torn or corrupt record",
		"segment", path, "offset", off, "bytes_dropped", size-off, "reason", why)
}

// resumeLast cuts a torn tail off the last segment, so that what follows it
// on disk is good data, and hands the segment to the flusher for further
// appends if it has room.
func (w *WAL) resumeLast(seg int, end, size int64) error {
	if end == size && end >= w.opts.SegmentSize {
		return nil // full and intact: appends start a new segment
	}
	path := segmentPath(w.dir, seg)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("reopen last WAL segment: %w", err)
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return fmt.Errorf("truncate torn WAL segment %s to %d bytes: %w", path, end, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("fsync truncated WAL segment %s: %w", path, err)
		}
	}
	if end >= w.opts.SegmentSize {
		return f.Close()
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("seek to the end of WAL segment %s: %w", path, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.logHasFile {
		// Close or an Append raced with Replay; leave the segment alone.
		return f.Close()
	}
	w.resume, w.resumeSeg = f, seg
	w.logSeg, w.logSize, w.logHasFile = seg, end, true
	return nil
}
