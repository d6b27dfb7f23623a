package eventstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// headChunk is how many head records one scan work item covers.
const headChunk = 8192

// scanItem is one unit of a scan: a row group of a part, or a run of head
// records.
type scanItem struct {
	part *part
	rg   int
	recs []Record // head records
	seq  uint64   // the head's sequence, for tombstones
}

// scanFilter is a Query compiled for per-record checks.
type scanFilter struct {
	groups  map[string]bool
	streams map[string]bool
	start   int64
	end     int64
	traces  map[[16]byte]bool // nil: every trace
	tombs   map[string][]tombstone
}

func (f *scanFilter) keep(r *Record) bool {
	if r.Time < f.start || f.end != 0 && r.Time >= f.end {
		return false
	}
	if f.groups != nil && !f.groups[r.Group] || f.streams != nil && !f.streams[r.Stream] {
		return false
	}
	return f.traces == nil || f.traces[r.TraceID]
}

func set(xs []string) map[string]bool {
	if xs == nil {
		return nil
	}
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Scan visits the records matching q over a consistent snapshot of the
// heads and parts: parts replaced by a compaction during the scan stay
// readable until it ends. newVisitor is called once per worker.
func (s *Store) Scan(ctx context.Context, q Query, newVisitor func() Visitor) (ScanStats, error) {
	if s.closed.Load() {
		return ScanStats{}, ErrClosed
	}
	var stats ScanStats
	key := datasetKey(q.Tenant, q.Dataset)
	f := &scanFilter{groups: set(q.Groups), streams: set(q.Streams), start: q.Start, end: q.End}
	if len(q.TraceIDs) > 0 {
		f.traces = make(map[[16]byte]bool, len(q.TraceIDs))
		for _, id := range q.TraceIDs {
			f.traces[id] = true
		}
		q.Columns |= ColTraceID
	}
	if q.Columns&ColStream == 0 && q.Streams != nil {
		q.Columns |= ColStream
	}
	if q.Groups != nil {
		q.Columns |= ColGroup
	}

	// Snapshot.
	s.mu.Lock()
	parts := slices.Clone(s.parts[key])
	for _, p := range parts {
		p.refs.Add(1)
	}
	heads := slices.Clone(s.flushing[key])
	if h := s.heads[key]; h != nil {
		heads = append(heads, h)
	}
	var items []scanItem
	for _, h := range heads {
		for _, recs := range h.chunks {
			for i := 0; i < len(recs); i += headChunk {
				items = append(items, scanItem{recs: recs[i:min(i+headChunk, len(recs)):min(i+headChunk, len(recs))], seq: h.seq})
			}
		}
	}
	f.tombs = s.man.Tombstones[key]
	if len(f.tombs) > 0 {
		q.Columns |= ColGroup // tombstones are per group
	}
	s.mu.Unlock()
	defer func() {
		for _, p := range parts {
			p.release()
		}
	}()
	s.metrics.scans.Inc()

	// Prune parts and row groups.
	needles := make([]uint64, 0, len(q.Needles)+len(q.AttrEquals))
	for _, n := range q.Needles {
		needles = append(needles, tokenHash(n))
	}
	for _, a := range q.AttrEquals {
		needles = append(needles, attrHash(a.Key, a.Value.String()))
	}
	traceKeys := make([]uint64, len(q.TraceIDs))
	for i, id := range q.TraceIDs {
		traceKeys[i] = traceHash(id)
	}
	for _, p := range parts {
		if !f.overlaps(p.index.MinTime, p.index.MaxTime) || !f.anyGroup(p.index.Groups, p.meta.Seq) {
			stats.PartsPruned++
			continue
		}
		stats.PartsScanned++
		for i, rg := range p.index.RowGroups {
			if !f.overlaps(rg.MinTime, rg.MaxTime) || !f.anyOf(f.groups, rg.Groups) || rg.Streams != nil && !f.anyOf(f.streams, rg.Streams) ||
				!anyIn(rg.Traces, traceKeys) || !allIn(rg.Tokens, needles) {
				stats.BlocksPruned++
				continue
			}
			items = append(items, scanItem{part: p, rg: i})
		}
	}
	s.metrics.rowGroupsPruned.Add(float64(stats.BlocksPruned))

	// Visit in parallel.
	workers := q.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(items)))
	work := make(chan scanItem)
	var (
		records, bytesRead atomic.Int64
		partialReason      atomic.Value
		firstErr           error
		errOnce            sync.Once
		stopped            = make(chan struct{})
		wg                 sync.WaitGroup
	)
	stop := func(err error) {
		errOnce.Do(func() {
			firstErr = err
			close(stopped)
		})
	}
	for range workers {
		v := newVisitor()
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				rr    = rowGroupReader{traces: f.traces, detail: q.Detail}
				buf   []Record
				batch Batch
			)
			for it := range work {
				var (
					recs []Record
					n    int64
					err  error
				)
				if it.part != nil {
					recs, n, err = s.readRowGroup(it.part, it.rg, q.Columns, &rr, buf)
					if err != nil {
						stop(err)
						continue
					}
					buf = recs
				} else {
					recs = it.recs
					for i := range recs {
						n += recordBytes(&recs[i])
					}
				}
				records.Add(int64(len(recs)))
				bytesRead.Add(n)
				batch.Records = batch.Records[:0]
				for i := range recs {
					r := &recs[i]
					if !f.keep(r) {
						continue
					}
					if ts := f.tombs[r.Group]; ts != nil {
						if it.part != nil && hiddenPart(ts, it.part.meta.Seq, r.Time) || it.part == nil && hiddenHead(ts, it.seq, r.Time) {
							continue
						}
					}
					batch.Records = append(batch.Records, *r)
				}
				if len(batch.Records) == 0 {
					continue
				}
				if err := v.Visit(&batch); err != nil {
					stop(err)
				}
			}
		}()
	}
feed:
	for _, it := range items {
		switch {
		case q.MaxRecords > 0 && records.Load() >= q.MaxRecords:
			partialReason.Store(fmt.Sprintf("stopped after scanning %d records, the query's record budget", records.Load()))
			break feed
		case q.MaxBytes > 0 && bytesRead.Load() >= q.MaxBytes:
			partialReason.Store(fmt.Sprintf("stopped after scanning %d bytes, the query's byte budget", bytesRead.Load()))
			break feed
		}
		select {
		case work <- it:
		case <-stopped:
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()

	stats.RecordsScanned, stats.BytesScanned = records.Load(), bytesRead.Load()
	s.metrics.scannedRecords.Add(float64(stats.RecordsScanned))
	s.metrics.scannedBytes.Add(float64(stats.BytesScanned))
	if r, ok := partialReason.Load().(string); ok {
		stats.Partial, stats.PartialReason = true, r
	}
	switch {
	case firstErr != nil && !errors.Is(firstErr, ErrStop):
		return stats, firstErr
	case firstErr == nil && ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			stats.Partial, stats.PartialReason = true, "stopped at the query's time limit"
			return stats, nil
		}
		return stats, ctx.Err()
	}
	return stats, nil
}

func (f *scanFilter) overlaps(minT, maxT int64) bool {
	return maxT >= f.start && (f.end == 0 || minT < f.end)
}

// anyGroup reports whether a part holds a wanted group not wholly hidden.
func (f *scanFilter) anyGroup(groups map[string]groupStat, seq uint64) bool {
	for g, st := range groups {
		if (f.groups == nil || f.groups[g]) && !hiddenPart(f.tombs[g], seq, st.MaxTime) {
			return true
		}
	}
	return false
}

func (f *scanFilter) anyOf(want map[string]bool, have []string) bool {
	if want == nil {
		return true
	}
	for _, h := range have {
		if want[h] {
			return true
		}
	}
	return false
}

// anyIn reports whether b may hold one of keys; true when keys is empty.
func anyIn(b *bloom, keys []uint64) bool {
	if len(keys) == 0 {
		return true
	}
	for _, k := range keys {
		if b.has(k) {
			return true
		}
	}
	return false
}

func allIn(b *bloom, keys []uint64) bool {
	for _, k := range keys {
		if !b.has(k) {
			return false
		}
	}
	return true
}

func (s *Store) readRowGroup(p *part, rg int, cols Column, rr *rowGroupReader, buf []Record) ([]Record, int64, error) {
	pf, err := p.open()
	if err != nil {
		return nil, 0, err
	}
	groups := pf.RowGroups()
	if rg >= len(groups) {
		return nil, 0, fmt.Errorf("part %s has %d row groups, its index %d", p.path, len(groups), len(p.index.RowGroups))
	}
	recs, n, err := rr.read(groups[rg], &p.leaf, cols, buf)
	if err != nil {
		return nil, 0, fmt.Errorf("read part %s: %w", p.path, err)
	}
	return recs, n, nil
}
