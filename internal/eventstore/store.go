package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miradorhq/mirador/internal/eventstore/wal"
)

// Options configure a Store. Zero values take the defaults noted.
type Options struct {
	Dir                string
	Sync               wal.Policy    // default SyncAlways
	SyncInterval       time.Duration // for wal.SyncInterval; default 1s
	WALSegmentSize     int64         // default 64 MiB
	HeadMaxBytes       int64         // memory budget of all heads; default 256 MiB
	HeadMaxAge         time.Duration // default 10m
	CompactionInterval time.Duration // default 1m; negative: only when Compact is called
	// Retention returns how long a group's records are kept; 0 is forever.
	Retention  func(tenant, dataset, group string) time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Store is the event store. All its methods are safe for concurrent use.
type Store struct {
	opts Options
	wal  *wal.WAL

	// gate orders WAL appends against head swaps: Append holds it shared
	// from its WAL write until its records are in the head; a flush or a
	// deletion holds it exclusively, so it sees every WAL record up to a
	// position in exactly one head.
	gate sync.RWMutex
	// work serialises flushes, compactions, retention and deletions.
	work sync.Mutex

	mu       sync.Mutex // guards everything below
	heads    map[string]*head
	flushing map[string][]*head // swapped out, being written; still scanned
	parts    map[string][]*part // by dataset key; replaced, never mutated in place
	man      manifest
	lastPos  wal.Position // newest WAL record appended
	total    int64        // bytes of all heads, flushing ones included

	closed  atomic.Bool
	flushCh chan struct{}
	drained chan struct{} // closed and replaced whenever a flush frees head memory; guarded by mu
	stop    chan struct{}
	done    chan struct{}
	metrics *storeMetrics
}

// head is the in-memory part of one tenant's dataset.
type head struct {
	tenant, dataset string
	chunks          [][]Record // the appended batches; new chunks are added, none is edited
	n               int        // records in chunks
	bytes           int64
	created         time.Time
	firstSeg        int          // WAL segment of the oldest record
	lastPos         wal.Position // WAL position of the newest batch
	seq             uint64       // part sequence once swapped out; MaxUint64 while active
}

// each calls fn for every record of the head, oldest batch first.
func (h *head) each(fn func(*Record)) {
	for _, c := range h.chunks {
		for i := range c {
			fn(&c[i])
		}
	}
}

// records returns a copy of the head's records in one slice.
func (h *head) records() []Record {
	out := make([]Record, 0, h.n)
	for _, c := range h.chunks {
		out = append(out, c...)
	}
	return out
}

// recordBytes estimates the memory a record holds in a head.
func recordBytes(r *Record) int64 {
	n := int64(unsafe.Sizeof(*r)) + int64(len(r.Group)+len(r.Stream)+len(r.SeverityText)+len(r.Body)+len(r.Name)+len(r.StatusMessage))
	for _, attrs := range [][]Attr{r.Attributes, r.Resource} {
		for _, a := range attrs {
			n += int64(unsafe.Sizeof(a)) + int64(len(a.Key)+len(a.Value.Str))
		}
	}
	return n
}

// Open opens the store in opts.Dir: it loads the manifest and the parts'
// indexes, deletes part files the manifest does not list (left by a crash
// mid-flush), and replays the WAL into the heads.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.WALSegmentSize <= 0 {
		opts.WALSegmentSize = 64 << 20
	}
	if opts.HeadMaxBytes <= 0 {
		opts.HeadMaxBytes = 256 << 20
	}
	if opts.HeadMaxAge <= 0 {
		opts.HeadMaxAge = 10 * time.Minute
	}
	if opts.CompactionInterval == 0 {
		opts.CompactionInterval = time.Minute
	}
	if opts.Retention == nil {
		opts.Retention = func(string, string, string) time.Duration { return 0 }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create event store directory: %w", err)
	}
	s := &Store{
		opts: opts, heads: map[string]*head{}, flushing: map[string][]*head{}, parts: map[string][]*part{},
		flushCh: make(chan struct{}, 1), drained: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	var err error
	if s.man, err = readManifest(opts.Dir); err != nil {
		return nil, err
	}
	if err := s.loadParts(); err != nil {
		return nil, err
	}
	s.metrics = newStoreMetrics(opts.Registerer, s)
	s.wal, err = wal.Open(filepath.Join(opts.Dir, "wal"), wal.Options{
		SegmentSize: opts.WALSegmentSize, Sync: opts.Sync, SyncInterval: opts.SyncInterval,
		Logger: opts.Logger, Registerer: opts.Registerer,
	})
	if err != nil {
		return nil, err
	}
	if err := s.replay(); err != nil {
		s.wal.Close()
		return nil, err
	}
	go s.background()
	return s, nil
}

// loadParts reads the index of every part in the manifest and removes the
// files of parts it does not list.
func (s *Store) loadParts() error {
	listed := map[string]bool{}
	for _, m := range s.man.Parts {
		p := &part{meta: m, path: partPath(s.opts.Dir, m)}
		idx, err := readIndex(indexPath(p.path))
		if err != nil {
			return fmt.Errorf("part %s of tenant %s is listed in the manifest but unreadable: %w", m.ID, m.Tenant, err)
		}
		p.index = idx
		p.refs.Store(1)
		key := datasetKey(m.Tenant, m.Dataset)
		s.parts[key] = append(s.parts[key], p)
		listed[p.path] = true
		listed[indexPath(p.path)] = true
	}
	root := filepath.Join(s.opts.Dir, "parts")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || listed[path] {
			return nil
		}
		s.opts.Logger.Info("removing a part file no manifest lists (left by an interrupted flush or compaction)", "file", path)
		return os.Remove(path)
	})
	if err != nil {
		return fmt.Errorf("clean part directory: %w", err)
	}
	return nil
}

// replay loads the WAL records that no part holds yet into the heads.
func (s *Store) replay() error {
	replayed := 0
	err := s.wal.Replay(func(pos wal.Position, payload []byte) error {
		tenant, dataset, recs, err := decodeBatch(payload)
		if err != nil {
			s.opts.Logger.Warn("skipping an undecodable WAL batch", "segment", pos.Segment, "offset", pos.Offset, "err", err)
			return nil
		}
		key := datasetKey(tenant, dataset)
		if flushed, ok := s.man.Flushed[key]; ok && !flushed.Less(pos) {
			return nil // already in a part
		}
		tombs := s.man.Tombstones[key]
		kept := recs[:0]
		for _, r := range recs {
			if !hiddenReplayed(tombs[r.Group], pos, r.Time) {
				kept = append(kept, r)
			}
		}
		s.addToHead(tenant, dataset, kept, pos)
		replayed += len(kept)
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay event store WAL: %w", err)
	}
	if replayed > 0 {
		s.opts.Logger.Info("replayed the event store WAL", "records", replayed)
	}
	return nil
}

func hiddenReplayed(ts []tombstone, pos wal.Position, t int64) bool {
	for _, tb := range ts {
		if tb.hidesReplayed(pos, t) {
			return true
		}
	}
	return false
}

// addToHead appends recs, written at pos, to their head. s.mu must not be
// held.
func (s *Store) addToHead(tenant, dataset string, recs []Record, pos wal.Position) int64 {
	var n int64
	for i := range recs {
		n += recordBytes(&recs[i])
	}
	key := datasetKey(tenant, dataset)
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.heads[key]
	if h == nil {
		h = &head{tenant: tenant, dataset: dataset, created: s.opts.Now(), firstSeg: pos.Segment, seq: math.MaxUint64}
		s.heads[key] = h
	}
	if len(recs) > 0 {
		h.chunks = append(h.chunks, recs)
		h.n += len(recs)
	}
	h.bytes += n
	h.lastPos = pos
	if s.lastPos.Less(pos) {
		s.lastPos = pos
	}
	s.total += n
	return s.total
}

// Append stores records of one tenant and dataset. When it returns nil they
// are in the WAL (synced as the policy says) and visible to Scan.
func (s *Store) Append(ctx context.Context, tenant, dataset string, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.waitForMemory(ctx); err != nil {
		return err
	}
	buf := batchBuffers.Get().(*[]byte)
	payload := encodeBatch((*buf)[:0], tenant, dataset, recs)
	s.gate.RLock()
	pos, err := s.wal.Append(ctx, payload)
	*buf = payload
	batchBuffers.Put(buf)
	if err != nil {
		s.gate.RUnlock()
		if errors.Is(err, wal.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("write event store WAL: %w", err)
	}
	total := s.addToHead(tenant, dataset, recs, pos)
	s.gate.RUnlock()
	s.metrics.appended.Add(float64(len(recs)))
	if total > s.opts.HeadMaxBytes {
		select {
		case s.flushCh <- struct{}{}:
		default:
		}
	}
	return nil
}

// waitForMemory holds an Append back while the heads use more than twice
// their budget, until flushes catch up: memory stays bounded when writers
// outpace the disk, and the writers see the slowdown as latency.
func (s *Store) waitForMemory(ctx context.Context) error {
	for {
		s.mu.Lock()
		over, drained := s.total > 2*s.opts.HeadMaxBytes, s.drained
		s.mu.Unlock()
		if !over {
			return nil
		}
		select {
		case s.flushCh <- struct{}{}:
		default:
		}
		select {
		case <-drained:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the event store to flush: %w", ctx.Err())
		case <-s.stop:
			return ErrClosed
		}
	}
}

var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// Flush writes every head to a part now.
func (s *Store) Flush(ctx context.Context) error {
	return s.flush(ctx, nil)
}

// flush swaps out the heads pick chooses (all when pick is nil) and writes
// each to a part.
func (s *Store) flush(ctx context.Context, pick func([]*head) []*head) error {
	s.work.Lock()
	defer s.work.Unlock()
	s.gate.Lock()
	s.mu.Lock()
	var all []*head
	for _, h := range s.heads {
		if h.n > 0 {
			all = append(all, h)
		}
	}
	taken := all
	if pick != nil {
		taken = pick(all)
	}
	for _, h := range taken {
		key := datasetKey(h.tenant, h.dataset)
		delete(s.heads, key)
		h.seq = s.man.NextSeq
		s.man.NextSeq++
		s.flushing[key] = append(s.flushing[key], h)
	}
	s.mu.Unlock()
	s.gate.Unlock()

	var errs []error
	for _, h := range taken {
		if err := s.writeHead(h); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.truncateWAL(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// writeHead writes a swapped-out head as a part and registers it. On
// failure the head goes back to being scanned from memory, and its records
// stay in the WAL.
func (s *Store) writeHead(h *head) error {
	start := time.Now()
	key := datasetKey(h.tenant, h.dataset)
	m := manifestPart{ID: fmt.Sprintf("%016x-%d", h.seq, start.UnixNano()), Tenant: h.tenant, Dataset: h.dataset, Seq: h.seq}
	path := partPath(s.opts.Dir, m)
	recs := h.records() // a copy: writePart sorts it while scans read the chunks
	idx, size, err := writePart(path, h.dataset, recs)
	if err == nil {
		m.Rows, m.Size, m.MinTime, m.MaxTime = idx.Rows, size, idx.MinTime, idx.MaxTime
		p := &part{meta: m, path: path, index: idx}
		p.refs.Store(1)
		s.mu.Lock()
		next := s.man
		next.Parts = append(slices.Clone(s.man.Parts), m)
		next.Flushed = cloneMap(s.man.Flushed)
		next.Flushed[key] = h.lastPos
		if err = writeManifest(s.opts.Dir, &next); err == nil {
			s.man = next
			s.parts[key] = append(slices.Clone(s.parts[key]), p)
			s.removeFlushing(key, h)
		}
		s.mu.Unlock()
		if err != nil {
			os.Remove(path)
			os.Remove(indexPath(path))
		}
	}
	if err != nil {
		s.opts.Logger.Error("flush of an event store head failed; its records stay in memory and in the WAL", "tenant", h.tenant, "dataset", h.dataset, "err", err)
		s.mu.Lock()
		s.removeFlushing(key, h)
		s.total += h.bytes // still in memory
		h.seq = math.MaxUint64
		if cur := s.heads[key]; cur != nil { // records arrived meanwhile: keep WAL order
			cur.chunks = append(slices.Clone(h.chunks), cur.chunks...)
			cur.n += h.n
			cur.bytes += h.bytes
			cur.firstSeg = min(cur.firstSeg, h.firstSeg)
		} else {
			s.heads[key] = h
		}
		s.mu.Unlock()
		return fmt.Errorf("flush %s: %w", key, err)
	}
	s.metrics.flushes.Inc()
	s.metrics.flushSeconds.Observe(time.Since(start).Seconds())
	s.opts.Logger.Debug("flushed an event store head", "tenant", h.tenant, "dataset", h.dataset, "records", h.n, "bytes", size, "duration", time.Since(start))
	return nil
}

// removeFlushing drops h from the flushing list. s.mu is held.
func (s *Store) removeFlushing(key string, h *head) {
	list := slices.DeleteFunc(slices.Clone(s.flushing[key]), func(x *head) bool { return x == h })
	if len(list) == 0 {
		delete(s.flushing, key)
	} else {
		s.flushing[key] = list
	}
	s.total -= h.bytes
	close(s.drained)
	s.drained = make(chan struct{})
}

// truncateWAL deletes the WAL segments no head needs.
func (s *Store) truncateWAL() error {
	segs := s.wal.Segments()
	if len(segs) == 0 {
		return nil
	}
	s.gate.Lock() // no append between its WAL write and its head insert
	s.mu.Lock()
	before := segs[len(segs)-1]
	for _, h := range s.heads {
		before = min(before, h.firstSeg)
	}
	for _, hs := range s.flushing {
		for _, h := range hs {
			before = min(before, h.firstSeg)
		}
	}
	s.mu.Unlock()
	s.gate.Unlock()
	return s.wal.Truncate(before)
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// DeleteGroup removes a group's records: those in memory at once, those in
// parts by a tombstone that compaction later applies.
func (s *Store) DeleteGroup(ctx context.Context, tenant, dataset, group string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.work.Lock()
	defer s.work.Unlock()
	s.gate.Lock()
	defer s.gate.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := datasetKey(tenant, dataset)
	if h := s.heads[key]; h != nil {
		kept := make([]Record, 0, h.n)
		var freed int64
		h.each(func(r *Record) {
			if r.Group == group {
				freed += recordBytes(r)
			} else {
				kept = append(kept, *r)
			}
		})
		h.chunks, h.n, h.bytes, s.total = [][]Record{kept}, len(kept), h.bytes-freed, s.total-freed
	}
	next := s.man
	next.Tombstones = cloneTombstones(s.man.Tombstones)
	if next.Tombstones[key] == nil {
		next.Tombstones[key] = map[string][]tombstone{}
	}
	next.Tombstones[key][group] = append(next.Tombstones[key][group], tombstone{Before: math.MaxInt64, PartSeq: s.man.NextSeq, WALPos: s.lastPos})
	if err := writeManifest(s.opts.Dir, &next); err != nil {
		return err
	}
	s.man = next
	return nil
}

func cloneTombstones(t map[string]map[string][]tombstone) map[string]map[string][]tombstone {
	out := make(map[string]map[string][]tombstone, len(t)+1)
	for k, groups := range t {
		out[k] = make(map[string][]tombstone, len(groups))
		for g, ts := range groups {
			out[k][g] = slices.Clone(ts)
		}
	}
	return out
}

// GroupStats describes what the store holds of one group.
type GroupStats struct {
	Name        string
	Records     int64
	StoredBytes int64 // the group's share of its parts' bytes on disk
	FirstTime   int64 // ns
	LastTime    int64 // ns
}

// Groups reports every group of a tenant's dataset that has records,
// sorted by name. Records hidden by deletion or retention but not yet
// compacted away may still be counted.
func (s *Store) Groups(tenant, dataset string) []GroupStats {
	key := datasetKey(tenant, dataset)
	s.mu.Lock()
	defer s.mu.Unlock()
	byName := map[string]*GroupStats{}
	get := func(g string, t int64) *GroupStats {
		st := byName[g]
		if st == nil {
			st = &GroupStats{Name: g, FirstTime: t, LastTime: t}
			byName[g] = st
		}
		return st
	}
	tombs := s.man.Tombstones[key]
	for _, p := range s.parts[key] {
		for g, gs := range p.index.Groups {
			if hiddenPart(tombs[g], p.meta.Seq, gs.MaxTime) {
				continue
			}
			st := get(g, gs.MinTime)
			st.Records += gs.Rows
			st.StoredBytes += p.meta.Size * gs.Rows / max(p.index.Rows, 1)
			st.FirstTime, st.LastTime = min(st.FirstTime, gs.MinTime), max(st.LastTime, gs.MaxTime)
		}
	}
	heads := slices.Clone(s.flushing[key])
	if h := s.heads[key]; h != nil {
		heads = append(heads, h)
	}
	for _, h := range heads {
		h.each(func(r *Record) {
			if hiddenHead(tombs[r.Group], h.seq, r.Time) {
				return
			}
			st := get(r.Group, r.Time)
			st.Records++
			st.FirstTime, st.LastTime = min(st.FirstTime, r.Time), max(st.LastTime, r.Time)
		})
	}
	out := make([]GroupStats, 0, len(byName))
	for _, st := range byName {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b GroupStats) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// hiddenPart reports whether a record of time t in a part of sequence seq
// is hidden by one of ts.
func hiddenPart(ts []tombstone, seq uint64, t int64) bool {
	for _, tb := range ts {
		if tb.hidesPart(seq, t) {
			return true
		}
	}
	return false
}

// hiddenHead is hiddenPart for head records: an active head (seq
// MaxUint64) is only covered by retention, deletions having removed its
// records directly.
func hiddenHead(ts []tombstone, seq uint64, t int64) bool {
	for _, tb := range ts {
		if t < tb.Before && (tb.PartSeq == math.MaxUint64 || seq < tb.PartSeq) {
			return true
		}
	}
	return false
}

// background flushes heads on memory pressure and age, and compacts.
func (s *Store) background() {
	defer close(s.done)
	tick := time.NewTicker(min(time.Second, s.opts.HeadMaxAge/4))
	defer tick.Stop()
	var compact <-chan time.Time
	if s.opts.CompactionInterval > 0 {
		t := time.NewTicker(s.opts.CompactionInterval)
		defer t.Stop()
		compact = t.C
	}
	ctx := context.Background()
	for {
		select {
		case <-s.stop:
			return
		case <-s.flushCh:
			s.flushForMemory(ctx)
		case <-tick.C:
			s.flushForMemory(ctx)
			s.flushOld(ctx)
		case <-compact:
			if err := s.Compact(ctx); err != nil {
				s.opts.Logger.Error("event store compaction failed", "err", err)
			}
		}
	}
}

// flushForMemory flushes the largest heads until the heads use at most half
// of the memory budget.
func (s *Store) flushForMemory(ctx context.Context) {
	s.mu.Lock()
	over := s.total > s.opts.HeadMaxBytes
	s.mu.Unlock()
	if !over {
		return
	}
	err := s.flush(ctx, func(hs []*head) []*head {
		slices.SortFunc(hs, func(a, b *head) int { return int(b.bytes - a.bytes) })
		var out []*head
		remaining := s.total
		for _, h := range hs {
			if remaining <= s.opts.HeadMaxBytes/2 {
				break
			}
			out = append(out, h)
			remaining -= h.bytes
		}
		return out
	})
	if err != nil {
		s.opts.Logger.Error("event store flush failed", "err", err)
	}
}

// flushOld flushes heads older than HeadMaxAge.
func (s *Store) flushOld(ctx context.Context) {
	now := s.opts.Now()
	s.mu.Lock()
	old := false
	for _, h := range s.heads {
		old = old || h.n > 0 && now.Sub(h.created) >= s.opts.HeadMaxAge
	}
	s.mu.Unlock()
	if !old {
		return
	}
	err := s.flush(ctx, func(hs []*head) []*head {
		var out []*head
		for _, h := range hs {
			if now.Sub(h.created) >= s.opts.HeadMaxAge {
				out = append(out, h)
			}
		}
		return out
	})
	if err != nil {
		s.opts.Logger.Error("event store flush failed", "err", err)
	}
}

// Close stops background work and closes the WAL. Heads are not flushed:
// the WAL holds their records and the next Open replays them.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	<-s.done
	s.work.Lock() // wait for a flush or compaction in progress
	defer s.work.Unlock()
	err := s.wal.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ps := range s.parts {
		for _, p := range ps {
			if p.osFile != nil {
				p.osFile.Close()
			}
		}
	}
	s.metrics.unregister()
	return err
}
