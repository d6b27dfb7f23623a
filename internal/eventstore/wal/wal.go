// Package wal is the event store's write-ahead log: a directory of numbered
// segment files holding checksummed records of opaque payloads.
//
// Appends from many goroutines are batched by one writer goroutine into a
// single write(2) and, under SyncAlways, a single fsync (group commit), so
// throughput is bounded by the disk's fsync rate times the batch size rather
// than by one fsync per record. Replay stops at the first torn or corrupt
// record of a segment, logs what it dropped and truncates the last segment
// there, so a crash mid-write never prevents a restart.
//
// A failed write or fsync poisons the WAL: every later Append returns the
// error. After a failed fsync the kernel may have dropped the dirty pages,
// so retrying could report durability that does not exist (the PostgreSQL
// "fsyncgate" lesson); the process must restart and replay instead.
//
// It imports nothing of Mirador's.
package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Policy says when appended records are synced to stable storage.
type Policy int

// Sync policies.
const (
	SyncAlways   Policy = iota // fsync before Append returns
	SyncInterval               // Append returns after write(2); fsync every Options.SyncInterval
	SyncNever                  // the OS decides when to write back
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("wal: closed")

const (
	headerSize = 8
	// maxRecord bounds a record's length; a larger length field is corruption.
	maxRecord = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options configure a WAL. The zero value syncs every append with 64 MiB
// segments.
type Options struct {
	SegmentSize  int64
	Sync         Policy
	SyncInterval time.Duration
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

// Position identifies a record: its segment and byte offset there.
type Position struct {
	Segment int
	Offset  int64
}

// Less orders positions as they were appended.
func (p Position) Less(q Position) bool {
	return p.Segment < q.Segment || p.Segment == q.Segment && p.Offset < q.Offset
}

// WAL is an open write-ahead log. Append, Cut, Truncate and Segments are
// safe for concurrent use.
type WAL struct {
	dir  string
	opts Options

	reqs    chan request
	done    chan struct{}
	closeMu sync.Mutex
	closed  bool

	mu       sync.Mutex // guards segments and the fields the writer shares
	segments []int
	cur      *os.File // owned by the writer goroutine after start
	curIdx   int
	curSize  int64
	failed   error

	metrics walMetrics
}

type request struct {
	payload []byte
	cut     bool
	reply   chan result
}

type result struct {
	pos Position
	seg int
	err error
}

type walMetrics struct {
	appends, bytes, fsyncs, corrupt prometheus.Counter
	fsyncSeconds, batchSize         prometheus.Histogram
	segments                        prometheus.Gauge
}

// Open opens (creating if needed) the WAL in dir. Call Replay before the
// first Append to read what a previous run left.
func Open(dir string, opts Options) (*WAL, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = 64 << 20
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create WAL directory: %w", err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	f := promauto.With(opts.Registerer)
	w := &WAL{
		dir: dir, opts: opts, segments: segs,
		reqs: make(chan request, 1024), done: make(chan struct{}),
		metrics: walMetrics{
			appends:      f.NewCounter(prometheus.CounterOpts{Name: "mirador_eventstore_wal_appends_total", Help: "Records appended to the event store WAL."}),
			bytes:        f.NewCounter(prometheus.CounterOpts{Name: "mirador_eventstore_wal_bytes_total", Help: "Bytes written to the event store WAL, headers included."}),
			fsyncs:       f.NewCounter(prometheus.CounterOpts{Name: "mirador_eventstore_wal_fsyncs_total", Help: "fsync calls on WAL segments."}),
			corrupt:      f.NewCounter(prometheus.CounterOpts{Name: "mirador_eventstore_wal_corrupt_records_total", Help: "Torn or corrupt WAL records skipped at replay (each ends its segment's replay)."}),
			fsyncSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "mirador_eventstore_wal_fsync_duration_seconds", Help: "Duration of WAL fsyncs.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
			batchSize:    f.NewHistogram(prometheus.HistogramOpts{Name: "mirador_eventstore_wal_group_commit_records", Help: "Records written by one group commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
			segments:     f.NewGauge(prometheus.GaugeOpts{Name: "mirador_eventstore_wal_segments", Help: "WAL segment files on disk."}),
		},
	}
	w.metrics.segments.Set(float64(len(segs)))
	go w.run()
	return w, nil
}

func segmentName(dir string, idx int) string {
	return filepath.Join(dir, fmt.Sprintf("%010d.wal", idx))
}

func listSegments(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read WAL directory: %w", err)
	}
	var segs []int
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".wal")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(name); err == nil && n >= 0 {
			segs = append(segs, n)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// Replay calls fn with every intact record, oldest first. The payload is
// valid only during the call. It must run before the first Append.
func (w *WAL) Replay(fn func(pos Position, payload []byte) error) error {
	w.mu.Lock()
	segs := slices.Clone(w.segments)
	w.mu.Unlock()
	for i, seg := range segs {
		if err := w.replaySegment(seg, i == len(segs)-1, fn); err != nil {
			return err
		}
	}
	return nil
}

func (w *WAL) replaySegment(seg int, last bool, fn func(Position, []byte) error) error {
	name := segmentName(w.dir, seg)
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read WAL segment %s: %w", name, err)
	}
	var off int64
	for off < int64(len(data)) {
		payload, n, why := decodeRecord(data[off:])
		if why != "" {
			w.metrics.corrupt.Inc()
			w.opts.Logger.Warn("skipping the rest of a WAL segment after a torn or corrupt record",
				"segment", name, "offset", off, "reason", why, "bytes_dropped", int64(len(data))-off)
			if last {
				if err := truncateFile(name, off); err != nil {
					return err
				}
			}
			return nil
		}
		if err := fn(Position{Segment: seg, Offset: off}, payload); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// decodeRecord reads one record from b: its payload and size, or why it is
// not a whole, intact record.
func decodeRecord(b []byte) (payload []byte, n int64, why string) {
	if len(b) < headerSize {
		return nil, 0, "short header"
	}
	size := binary.LittleEndian.Uint32(b)
	if size > maxRecord {
		return nil, 0, fmt.Sprintf("length %d beyond the %d limit", size, maxRecord)
	}
	if int64(len(b)-headerSize) < int64(size) {
		return nil, 0, "length past the end of the segment"
	}
	payload = b[headerSize : headerSize+int(size)]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, "checksum mismatch"
	}
	return payload, headerSize + int64(size), ""
}

func truncateFile(name string, size int64) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("truncate torn WAL segment: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate torn WAL segment %s: %w", name, err)
	}
	return f.Sync()
}

// Append writes payload as one record and returns its position once it is
// durable as the policy says.
func (w *WAL) Append(ctx context.Context, payload []byte) (Position, error) {
	res, err := w.send(ctx, request{payload: payload})
	return res.pos, err
}

// Cut closes the current segment, synced, and makes later records go to a
// new one, whose index it returns.
func (w *WAL) Cut() (int, error) {
	res, err := w.send(context.Background(), request{cut: true})
	return res.seg, err
}

func (w *WAL) send(ctx context.Context, r request) (result, error) {
	r.reply = make(chan result, 1)
	w.closeMu.Lock()
	if w.closed {
		w.closeMu.Unlock()
		return result{}, ErrClosed
	}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.closeMu.Unlock()
		return result{}, ctx.Err()
	}
	w.closeMu.Unlock()
	select {
	case res := <-r.reply:
		return res, res.err
	case <-ctx.Done():
		return result{}, ctx.Err()
	}
}

// run is the writer goroutine: it drains pending requests, writes them with
// one write(2), syncs once and answers them all.
func (w *WAL) run() {
	defer close(w.done)
	var ticker <-chan time.Time
	if w.opts.Sync == SyncInterval {
		t := time.NewTicker(w.opts.SyncInterval)
		defer t.Stop()
		ticker = t.C
	}
	var (
		buf     []byte
		batch   []request
		results []result
		dirty   bool
	)
	for {
		select {
		case r, ok := <-w.reqs:
			if !ok {
				if w.cur != nil {
					if dirty {
						_ = w.sync()
					}
					_ = w.cur.Close()
				}
				return
			}
			batch = append(batch[:0], r)
		drain:
			for len(batch) < 4096 {
				select {
				case r, ok := <-w.reqs:
					if !ok {
						break drain
					}
					batch = append(batch, r)
				default:
					break drain
				}
			}
			results = results[:0]
			buf, dirty = w.writeBatch(batch, buf[:0], &results, dirty)
			for i, r := range batch {
				r.reply <- results[i]
			}
		case <-ticker:
			if dirty && w.failed == nil {
				if err := w.sync(); err != nil {
					w.failed = fmt.Errorf("wal: fsync failed, refusing further writes: %w", err)
				}
				dirty = false
			}
		}
	}
}

// writeBatch handles one batch of requests in order; cuts split it.
func (w *WAL) writeBatch(batch []request, buf []byte, results *[]result, dirty bool) ([]byte, bool) {
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := w.cur.Write(buf)
		w.metrics.bytes.Add(float64(len(buf)))
		w.curSize += int64(len(buf))
		buf = buf[:0]
		if err != nil {
			return fmt.Errorf("wal: write failed, refusing further writes: %w", err)
		}
		dirty = true
		return nil
	}
	var pending []int // indexes of appends in buf awaiting flush and sync
	finish := func() {
		err := w.failed
		if err == nil {
			err = flush()
		}
		if err == nil && len(pending) > 0 && w.opts.Sync == SyncAlways {
			err = w.sync()
			dirty = false
			if err != nil {
				err = fmt.Errorf("wal: fsync failed, refusing further writes: %w", err)
			}
		}
		if err != nil && w.failed == nil {
			w.failed = err
		}
		for _, i := range pending {
			if err != nil {
				(*results)[i] = result{err: err}
			}
		}
		if len(pending) > 0 {
			w.metrics.batchSize.Observe(float64(len(pending)))
			if err == nil {
				w.metrics.appends.Add(float64(len(pending)))
			}
		}
		pending = pending[:0]
	}
	for i, r := range batch {
		*results = append(*results, result{})
		if w.failed != nil {
			(*results)[i] = result{err: w.failed}
			continue
		}
		if r.cut {
			finish()
			idx, err := w.startSegment(dirty)
			dirty = false
			(*results)[i] = result{seg: idx, err: err}
			continue
		}
		if w.cur == nil || w.curSize > 0 && w.curSize+int64(len(buf))+headerSize+int64(len(r.payload)) > w.opts.SegmentSize {
			finish()
			if _, err := w.startSegment(dirty); err != nil {
				(*results)[i] = result{err: err}
				continue
			}
			dirty = false
		}
		off := w.curSize + int64(len(buf))
		var hdr [headerSize]byte
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(r.payload)))
		binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(r.payload, castagnoli))
		buf = append(append(buf, hdr[:]...), r.payload...)
		(*results)[i] = result{pos: Position{Segment: w.curIdx, Offset: off}}
		pending = append(pending, i)
	}
	finish()
	return buf, dirty
}

// startSegment syncs and closes the current segment and creates the next.
func (w *WAL) startSegment(dirty bool) (int, error) {
	if w.cur != nil {
		if dirty {
			if err := w.sync(); err != nil {
				w.failed = fmt.Errorf("wal: fsync failed, refusing further writes: %w", err)
				return 0, w.failed
			}
		}
		if err := w.cur.Close(); err != nil {
			w.failed = fmt.Errorf("wal: close segment: %w", err)
			return 0, w.failed
		}
		w.mu.Lock()
		w.cur = nil
		w.mu.Unlock()
	}
	w.mu.Lock()
	next := 0
	if len(w.segments) > 0 {
		next = w.segments[len(w.segments)-1] + 1
	}
	w.mu.Unlock()
	f, err := os.OpenFile(segmentName(w.dir, next), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, fmt.Errorf("wal: create segment: %w", err)
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return 0, err
	}
	w.mu.Lock()
	w.segments = append(w.segments, next)
	w.metrics.segments.Set(float64(len(w.segments)))
	w.cur, w.curIdx, w.curSize = f, next, 0
	w.mu.Unlock()
	return next, nil
}

func (w *WAL) sync() error {
	start := time.Now()
	err := w.cur.Sync()
	w.metrics.fsyncs.Inc()
	w.metrics.fsyncSeconds.Observe(time.Since(start).Seconds())
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("wal: sync directory: %w", err)
	}
	return nil
}

// Truncate deletes the segments whose index is below before, except the
// one being written.
func (w *WAL) Truncate(before int) error {
	w.mu.Lock()
	var doomed []int
	keep := w.segments[:0]
	for _, s := range w.segments {
		if s < before && !(w.cur != nil && s == w.curIdx) {
			doomed = append(doomed, s)
		} else {
			keep = append(keep, s)
		}
	}
	w.segments = keep
	w.metrics.segments.Set(float64(len(keep)))
	w.mu.Unlock()
	for _, s := range doomed {
		if err := os.Remove(segmentName(w.dir, s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("wal: remove segment: %w", err)
		}
	}
	return nil
}

// Segments returns the indexes of the segments on disk, ascending.
func (w *WAL) Segments() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.segments)
}

// Close syncs and closes the WAL. Appends waiting in the queue are written
// first; later ones return ErrClosed.
func (w *WAL) Close() error {
	w.closeMu.Lock()
	if w.closed {
		w.closeMu.Unlock()
		return nil
	}
	w.closed = true
	close(w.reqs)
	w.closeMu.Unlock()
	<-w.done
	return w.failed
}
