package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Policy says when appended records reach stable storage.
type Policy int

const (
	// SyncAlways fsyncs before Append returns. Concurrent appends share one
	// write and one fsync (group commit).
	SyncAlways Policy = iota
	// SyncInterval returns from Append after write(2); a background loop
	// fsyncs every Options.SyncInterval. A crash of the machine (not just the
	// process) can lose up to that much acknowledged data.
	SyncInterval
	// SyncNever leaves write-back to the operating system. Records are still
	// written before Append returns, and segments are still fsynced when they
	// are closed (by Cut, by reaching SegmentSize, or by Close).
	SyncNever
)

// String returns the policy's configuration name.
func (p Policy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

var (
	// ErrClosed is returned by Append, Cut, Replay and Truncate after Close.
	ErrClosed = errors.New("wal: closed")
	// ErrFailed is wrapped by every error of a WAL whose write or fsync
	// failed. Such a WAL refuses appends for good: restart the process, which
	// replays what reached the disk.
	ErrFailed = errors.New("wal: a write or fsync failed, so the log refuses further appends; restart the process to replay it")
)

const (
	headerSize = 8
	// MaxRecordSize is the largest payload Append accepts. Replay treats a
	// larger length field as corruption.
	MaxRecordSize = 256 << 20

	defaultSegmentSize  = 64 << 20
	defaultSyncInterval = time.Second
	// maxSpareBuffer bounds the write buffer kept between batches, so one
	// huge record does not pin its size in memory for good.
	maxSpareBuffer = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options configure a WAL. The zero value fsyncs every append into 64 MiB
// segments, logs nothing and exports no metrics.
type Options struct {
	// SegmentSize closes a segment and starts the next once the segment
	// reaches it. A record larger than SegmentSize gets a segment of its own.
	// Default 64 MiB.
	SegmentSize int64
	// Sync is the durability policy. Default SyncAlways.
	Sync Policy
	// SyncInterval is the fsync period under SyncInterval. Default 1s.
	SyncInterval time.Duration
	// Logger receives replay warnings. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the mirador_eventstore_wal_* metrics; they are
	// unregistered by Close. Nil exports none.
	Registerer prometheus.Registerer
}

// Position identifies a record: the index of its segment and the byte
// offset of its header in that segment. Positions grow in append order.
type Position struct {
	Segment int
	Offset  int64
}

// Less reports whether p was appended before q.
func (p Position) Less(q Position) bool {
	return p.Segment < q.Segment || p.Segment == q.Segment && p.Offset < q.Offset
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Segment, p.Offset) }

// WAL is an open write-ahead log. Append, Cut, Truncate, Segments and Close
// are safe for concurrent use; Replay must run alone, before the first
// Append.
type WAL struct {
	dir  string
	opts Options

	// openSegment creates segment files; tests replace it to inject faults.
	openSegment func(path string) (segmentFile, error)

	mu sync.Mutex
	// Where the next record goes. The logical segment runs ahead of the file
	// the flusher writes while a roll to a new segment is still buffered.
	logSeg     int
	logSize    int64
	logHasFile bool // logSeg exists on disk or a buffered chunk creates it
	buf        []byte
	chunks     []chunk
	queued     int    // appends in buf
	batch      *batch // completion of what is buffered; nil if nothing is
	spareBuf   []byte
	spareChunk []chunk
	resume     segmentFile // last segment reopened by Replay, for the writer to adopt
	resumeSeg  int
	segments   []int // segment files on disk, ascending
	curSeg     int   // segment being written, -1 before the first
	writing    bool  // a goroutine is between takeLocked and the end of commit
	failed     error // wraps ErrFailed once a write or fsync failed
	closed     bool
	replayed   bool
	closeErr   error

	kick chan struct{} // wakes the flusher; capacity 1
	done chan struct{} // closed when the flusher has exited

	// Owned by the goroutine that set writing: the flusher or an appender
	// writing its own record. fileMu keeps cur alive while the interval
	// syncer fsyncs it; the owner replaces cur only under Lock.
	fileMu sync.RWMutex
	cur    segmentFile
	dirty  atomic.Bool // written since the last fsync

	stopSyncer chan struct{}
	syncerDone chan struct{}

	metrics walMetrics
}

// chunk is a run of buffered bytes bound for one segment; create starts that
// segment first.
type chunk struct {
	seg    int
	create bool
	n      int
}

// batch is one group commit. err is set before done is closed.
type batch struct {
	done chan struct{}
	err  error
}

// Open opens the WAL in dir, creating the directory if needed. It does not
// read the segments: call Replay for that before the first Append. Appends
// go to a new segment unless Replay reopens the last one.
func Open(dir string, opts Options) (*WAL, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = defaultSegmentSize
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = defaultSyncInterval
	}
	switch opts.Sync {
	case SyncAlways, SyncInterval, SyncNever:
	default:
		return nil, fmt.Errorf("open WAL %s: unknown sync policy %d: use SyncAlways, SyncInterval or SyncNever", dir, int(opts.Sync))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create WAL directory: %w", err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	w := &WAL{
		dir:         dir,
		opts:        opts,
		openSegment: createSegment,
		segments:    segs,
		curSeg:      -1,
		kick:        make(chan struct{}, 1),
		done:        make(chan struct{}),
		metrics:     newMetrics(),
	}
	if len(segs) > 0 {
		w.logSeg = segs[len(segs)-1] + 1
	}
	if err := w.metrics.register(opts.Registerer); err != nil {
		return nil, fmt.Errorf("open WAL %s: %w", dir, err)
	}
	w.metrics.segments.Set(float64(len(segs)))
	if opts.Sync == SyncInterval {
		w.stopSyncer, w.syncerDone = make(chan struct{}), make(chan struct{})
		go w.syncLoop()
	}
	go w.flushLoop()
	return w, nil
}

// Append writes payload as one record and returns its position once the
// record is durable as the policy says: fsynced under SyncAlways, written
// under the others. Concurrent appends are batched into one write and one
// fsync. Append copies payload before it returns, so the caller may reuse it
// at once, whatever the outcome.
//
// If ctx ends while Append waits for the flusher, it returns ctx.Err(); the
// record may still be written and replayed. (Under SyncInterval and
// SyncNever an Append that finds no write in progress makes its write(2)
// itself, which ctx does not interrupt.) A payload must hold 1 to
// MaxRecordSize bytes.
func (w *WAL) Append(ctx context.Context, payload []byte) (Position, error) {
	if len(payload) == 0 {
		return Position{}, errors.New("wal: empty payload: a record must hold at least one byte")
	}
	if len(payload) > MaxRecordSize {
		return Position{}, fmt.Errorf("wal: payload of %d bytes exceeds the %d-byte record limit: split it", len(payload), MaxRecordSize)
	}
	if err := ctx.Err(); err != nil {
		return Position{}, err
	}
	sum := crc32.Checksum(payload, castagnoli) // outside the lock: it is the costly part
	recSize := int64(headerSize + len(payload))

	w.mu.Lock()
	if err := w.refuseLocked(); err != nil {
		w.mu.Unlock()
		return Position{}, err
	}
	if !w.logHasFile || w.logSize > 0 && w.logSize+recSize > w.opts.SegmentSize {
		w.startSegmentLocked()
	} else if len(w.chunks) == 0 {
		w.chunks = append(w.chunks, chunk{seg: w.logSeg})
	}
	pos := Position{Segment: w.logSeg, Offset: w.logSize}
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(payload)))
	w.buf = binary.LittleEndian.AppendUint32(w.buf, sum)
	w.buf = append(w.buf, payload...)
	w.chunks[len(w.chunks)-1].n += int(recSize)
	w.logSize += recSize
	w.queued++
	b := w.batchLocked()
	if w.opts.Sync != SyncAlways && !w.writing && len(w.chunks) == 1 && !w.chunks[0].create {
		// Nobody is writing and this write cannot block on an fsync: do it
		// here rather than pay two goroutine hand-offs to the flusher.
		g := w.takeLocked()
		w.mu.Unlock()
		w.commit(g)
		return pos, b.err
	}
	w.mu.Unlock()

	return pos, w.wait(ctx, b)
}

// Cut fsyncs and closes the current segment and starts a new one, returning
// its index. Records appended after Cut returns are in segments at or above
// that index, so Truncate(index) will not delete them.
func (w *WAL) Cut() (int, error) {
	w.mu.Lock()
	if err := w.refuseLocked(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	w.startSegmentLocked()
	seg := w.logSeg
	b := w.batchLocked()
	w.mu.Unlock()

	if err := w.wait(context.Background(), b); err != nil {
		return 0, err
	}
	return seg, nil
}

func (w *WAL) refuseLocked() error {
	if w.closed {
		return ErrClosed
	}
	return w.failed
}

// startSegmentLocked makes later records go to a new segment, which the
// flusher creates when it reaches the chunk.
func (w *WAL) startSegmentLocked() {
	if w.logHasFile {
		w.logSeg++
	}
	w.logHasFile = true
	w.logSize = 0
	w.chunks = append(w.chunks, chunk{seg: w.logSeg, create: true})
}

func (w *WAL) batchLocked() *batch {
	if w.batch == nil {
		w.batch = &batch{done: make(chan struct{})}
	}
	return w.batch
}

func (w *WAL) wait(ctx context.Context, b *batch) error {
	w.wake()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushLoop is the flusher goroutine: it writes what appends buffered, one
// batch at a time, until Close.
func (w *WAL) flushLoop() {
	defer close(w.done)
	for range w.kick {
		for {
			flushed, exit := w.flushOnce()
			if exit {
				w.shutdown()
				return
			}
			if !flushed {
				break
			}
		}
	}
}

// flushOnce commits everything buffered, unless a writing appender is
// already at it (it kicks the flusher when done). It reports whether it
// committed anything, and whether the WAL is closed with nothing left to
// write.
func (w *WAL) flushOnce() (flushed, exit bool) {
	w.mu.Lock()
	w.adoptResumeLocked()
	if w.writing {
		w.mu.Unlock()
		return false, false
	}
	if len(w.chunks) == 0 {
		exit = w.closed
		w.mu.Unlock()
		return false, exit
	}
	g := w.takeLocked()
	w.mu.Unlock()
	w.commit(g)
	return true, false
}

// group is one group commit taken from the buffer.
type group struct {
	buf     []byte
	chunks  []chunk
	b       *batch
	records int
	err     error // the WAL's failure when the group was taken
}

// takeLocked moves what is buffered into a group for commit and makes the
// caller the only goroutine writing segments until commit returns.
func (w *WAL) takeLocked() group {
	w.adoptResumeLocked()
	g := group{buf: w.buf, chunks: w.chunks, b: w.batch, records: w.queued, err: w.failed}
	w.buf, w.chunks, w.batch, w.queued = w.spareBuf[:0], w.spareChunk[:0], nil, 0
	w.writing = true
	return g
}

func (w *WAL) adoptResumeLocked() {
	if w.resume != nil {
		w.setCur(w.resume, w.resumeSeg)
		w.resume = nil
	}
}

// commit writes and, under SyncAlways, fsyncs a group, then releases its
// appenders.
func (w *WAL) commit(g group) {
	err := g.err
	if err == nil {
		err = w.writeChunks(g.buf, g.chunks)
	}
	if err == nil && w.opts.Sync == SyncAlways && w.dirty.Load() {
		err = w.syncCur()
	}
	if g.records > 0 {
		w.metrics.batchRecords.Observe(float64(g.records))
		if err == nil {
			w.metrics.appends.Add(float64(g.records))
		}
	}

	w.mu.Lock()
	if err != nil {
		w.failLocked(err)
		err = w.failed
	}
	if cap(g.buf) <= maxSpareBuffer {
		w.spareBuf = g.buf[:0]
	} else {
		w.spareBuf = nil
	}
	w.spareChunk = g.chunks[:0]
	w.writing = false
	more := len(w.chunks) > 0 || w.closed
	w.mu.Unlock()

	g.b.err = err
	close(g.b.done)
	if more {
		w.wake()
	}
}

func (w *WAL) wake() {
	select {
	case w.kick <- struct{}{}:
	default: // the flusher is already due to run
	}
}

// writeChunks writes buf, creating segments where chunks say so.
func (w *WAL) writeChunks(buf []byte, chunks []chunk) error {
	for _, c := range chunks {
		if c.create {
			if err := w.rollTo(c.seg); err != nil {
				return err
			}
		}
		if c.n == 0 {
			continue
		}
		data := buf[:c.n]
		buf = buf[c.n:]
		n, err := w.cur.Write(data)
		w.metrics.bytes.Add(float64(n))
		w.dirty.Store(true)
		if err != nil {
			return fmt.Errorf("%w: write WAL segment %s: %w", ErrFailed, segmentPath(w.dir, c.seg), err)
		}
	}
	return nil
}

// rollTo fsyncs and closes the current segment, then creates segment seg
// and makes its directory entry durable.
func (w *WAL) rollTo(seg int) error {
	if err := w.closeCur(); err != nil {
		return err
	}
	path := segmentPath(w.dir, seg)
	f, err := w.openSegment(path)
	if err != nil {
		return fmt.Errorf("%w: create WAL segment: %w", ErrFailed, err)
	}
	if err := syncDir(w.dir); err != nil {
		_ = f.Close()
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	w.mu.Lock()
	w.segments = append(w.segments, seg)
	w.metrics.segments.Set(float64(len(w.segments)))
	w.setCur(f, seg)
	w.mu.Unlock()
	return nil
}

// setCur installs f as the segment being written. Called by the writer
// with mu held.
func (w *WAL) setCur(f segmentFile, seg int) {
	w.fileMu.Lock()
	w.cur = f
	w.fileMu.Unlock()
	w.curSeg = seg
}

// closeCur fsyncs the current segment if it has unsynced writes and closes
// it, whatever the policy: a closed segment is complete on disk.
func (w *WAL) closeCur() error {
	if w.cur == nil {
		return nil
	}
	var err error
	if w.dirty.Load() {
		err = w.syncCur()
	}
	w.fileMu.Lock()
	if cerr := w.cur.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: close WAL segment: %w", ErrFailed, cerr)
	}
	w.cur = nil
	w.fileMu.Unlock()
	return err
}

// syncCur fsyncs the current segment. The caller owns cur (it is writing) or
// holds fileMu for reading (the syncer).
func (w *WAL) syncCur() error {
	w.dirty.Store(false)
	start := time.Now()
	err := w.cur.Sync()
	w.metrics.fsyncSeconds.Observe(time.Since(start).Seconds())
	w.metrics.fsyncs.Inc()
	if err != nil {
		return fmt.Errorf("%w: fsync WAL segment: %w", ErrFailed, err)
	}
	return nil
}

// failLocked poisons the WAL with its first failure.
func (w *WAL) failLocked(err error) {
	if w.failed != nil {
		return
	}
	if !errors.Is(err, ErrFailed) {
		err = fmt.Errorf("%w: %w", ErrFailed, err)
	}
	w.failed = err
	w.metrics.failed.Set(1)
	w.opts.Logger.Error("the event store WAL failed and refuses further appends; restart the process to replay it", "dir", w.dir, "err", err)
}

// syncLoop fsyncs the current segment every SyncInterval while it has
// unsynced writes. It runs beside the flusher, so appends are not held up
// by a long fsync.
func (w *WAL) syncLoop() {
	defer close(w.syncerDone)
	t := time.NewTicker(w.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stopSyncer:
			return
		case <-t.C:
		}
		w.mu.Lock()
		failed := w.failed != nil
		w.mu.Unlock()
		if failed {
			continue
		}
		w.fileMu.RLock()
		var err error
		if w.cur != nil && w.dirty.Load() {
			err = w.syncCur()
		}
		w.fileMu.RUnlock()
		if err != nil {
			w.mu.Lock()
			w.failLocked(err)
			w.mu.Unlock()
		}
	}
}

// shutdown stops the syncer and fsyncs and closes the current segment once
// Close has been called and every buffered record is written.
func (w *WAL) shutdown() {
	if w.stopSyncer != nil {
		close(w.stopSyncer)
		<-w.syncerDone
	}
	w.mu.Lock()
	failed := w.failed
	w.mu.Unlock()
	var err error
	if failed != nil {
		if w.cur != nil {
			_ = w.cur.Close() // an fsync now could falsely report the lost writes durable
			w.cur = nil
		}
		err = failed
	} else {
		err = w.closeCur()
	}
	w.mu.Lock()
	w.closeErr = err
	w.mu.Unlock()
}

// Close writes the appends already waiting, fsyncs and closes the current
// segment, stops the WAL's goroutines and unregisters its metrics. Later
// Appends return ErrClosed. It returns the WAL's failure, if any; calling it
// again returns the same result.
func (w *WAL) Close() error {
	w.mu.Lock()
	first := !w.closed
	w.closed = true
	w.mu.Unlock()
	if first {
		w.wake()
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if first {
		w.metrics.unregister()
	}
	return w.closeErr
}
