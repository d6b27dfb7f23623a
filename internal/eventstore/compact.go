package eventstore

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"time"
)

// Compaction is size-tiered: when a dataset has at least compactMinParts
// parts smaller than compactSmallBytes, the oldest of them (by time range,
// so merged parts cover neighbouring windows) are merged, up to
// compactMaxRows records, into one part. Merging drops records hidden by
// retention or deletion. It runs beside Append and Scan: the new part is
// registered and the old ones unlisted in one manifest write, and scans
// holding the old ones keep reading them until they finish.
const (
	compactMinParts   = 4
	compactSmallBytes = 128 << 20
	compactMaxRows    = 500_000
)

// Compact applies retention and then merges small parts, once.
func (s *Store) Compact(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.work.Lock()
	defer s.work.Unlock()
	if err := s.applyRetention(); err != nil {
		return err
	}
	s.mu.Lock()
	keys := make([]string, 0, len(s.parts))
	for k := range s.parts {
		keys = append(keys, k)
	}
	s.mu.Unlock()
	slices.Sort(keys)
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.compactDataset(key); err != nil {
			return err
		}
	}
	return nil
}

// applyRetention records each group's retention as a tombstone and drops
// the parts in which every record is hidden. It rewrites nothing: other
// groups' records sharing a part stay where they are until compaction
// merges that part anyway.
func (s *Store) applyRetention() error {
	now := s.opts.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.man
	next.Tombstones = cloneTombstones(s.man.Tombstones)
	changed := false
	seen := map[string]map[string]bool{}
	visit := func(tenant, dataset, group string) {
		key := datasetKey(tenant, dataset)
		if seen[key][group] {
			return
		}
		if seen[key] == nil {
			seen[key] = map[string]bool{}
		}
		seen[key][group] = true
		r := s.opts.Retention(tenant, dataset, group)
		if r <= 0 {
			return
		}
		before := now - int64(r)
		if next.Tombstones[key] == nil {
			next.Tombstones[key] = map[string][]tombstone{}
		}
		ts := next.Tombstones[key][group]
		i := slices.IndexFunc(ts, func(t tombstone) bool { return t.PartSeq == math.MaxUint64 })
		switch {
		case i < 0:
			ts = append(ts, tombstone{Before: before, PartSeq: math.MaxUint64, WALPos: everything})
		case ts[i].Before < before:
			ts[i].Before = before
		default:
			return
		}
		next.Tombstones[key][group] = ts
		changed = true
	}
	for _, ps := range s.parts {
		for _, p := range ps {
			for g := range p.index.Groups {
				visit(p.meta.Tenant, p.meta.Dataset, g)
			}
		}
	}
	for _, h := range s.heads {
		groups := map[string]bool{}
		h.each(func(r *Record) { groups[r.Group] = true })
		for g := range groups {
			visit(h.tenant, h.dataset, g)
		}
	}

	// Drop parts wholly hidden.
	var doomed []*part
	for _, ps := range s.parts {
		for _, p := range ps {
			tombs := next.Tombstones[datasetKey(p.meta.Tenant, p.meta.Dataset)]
			dead := true
			for g, st := range p.index.Groups {
				if !hiddenPart(tombs[g], p.meta.Seq, st.MaxTime) {
					dead = false
					break
				}
			}
			if dead {
				doomed = append(doomed, p)
			}
		}
	}
	if !changed && len(doomed) == 0 {
		return nil
	}
	next.Parts = slices.DeleteFunc(slices.Clone(s.man.Parts), func(m manifestPart) bool {
		return slices.ContainsFunc(doomed, func(p *part) bool { return p.meta.ID == m.ID })
	})
	if err := writeManifest(s.opts.Dir, &next); err != nil {
		return err
	}
	s.man = next
	for _, p := range doomed {
		key := datasetKey(p.meta.Tenant, p.meta.Dataset)
		s.parts[key] = slices.DeleteFunc(slices.Clone(s.parts[key]), func(x *part) bool { return x == p })
		if len(s.parts[key]) == 0 {
			delete(s.parts, key)
		}
		p.removed.Store(true)
		p.release()
		s.metrics.retentionDeleted.Inc()
		s.opts.Logger.Info("deleted an expired event store part", "tenant", p.meta.Tenant, "dataset", p.meta.Dataset, "part", p.meta.ID, "records", p.meta.Rows)
	}
	return nil
}

// compactDataset merges one dataset's small parts if there are enough.
func (s *Store) compactDataset(key string) error {
	s.mu.Lock()
	var small []*part
	for _, p := range s.parts[key] {
		if p.meta.Size < compactSmallBytes {
			small = append(small, p)
		}
	}
	slices.SortFunc(small, func(a, b *part) int { return int(min(max(a.meta.MinTime-b.meta.MinTime, -1), 1)) })
	var inputs []*part
	var rows int64
	for _, p := range small {
		if rows+p.meta.Rows > compactMaxRows && len(inputs) >= 2 {
			break
		}
		inputs = append(inputs, p)
		rows += p.meta.Rows
		p.refs.Add(1)
	}
	tombs := s.man.Tombstones[key]
	seq := s.man.NextSeq
	s.man.NextSeq++ // reserved; unused numbers are harmless
	s.mu.Unlock()
	defer func() {
		for _, p := range inputs {
			p.release()
		}
	}()
	if len(inputs) < compactMinParts {
		return nil
	}
	start := time.Now()

	var merged []Record
	var rr rowGroupReader
	for _, p := range inputs {
		for rg := range p.index.RowGroups {
			recs, _, err := s.readRowGroup(p, rg, ColAll, &rr, nil)
			if err != nil {
				return fmt.Errorf("compact %s: %w", key, err)
			}
			for _, r := range recs {
				if !hiddenPart(tombs[r.Group], p.meta.Seq, r.Time) {
					merged = append(merged, r)
				}
			}
		}
	}
	level := 0
	for _, p := range inputs {
		level = max(level, p.meta.Level+1)
	}
	m := manifestPart{ID: fmt.Sprintf("%016x-%d", seq, start.UnixNano()), Tenant: inputs[0].meta.Tenant, Dataset: inputs[0].meta.Dataset, Seq: seq, Level: level}
	path := partPath(s.opts.Dir, m)
	var out *part
	if len(merged) > 0 {
		idx, size, err := writePart(path, m.Dataset, merged)
		if err != nil {
			return fmt.Errorf("compact %s: %w", key, err)
		}
		m.Rows, m.Size, m.MinTime, m.MaxTime = idx.Rows, size, idx.MinTime, idx.MaxTime
		out = &part{meta: m, path: path, index: idx}
		out.refs.Store(1)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.man
	next.Parts = slices.DeleteFunc(slices.Clone(s.man.Parts), func(mp manifestPart) bool {
		return slices.ContainsFunc(inputs, func(p *part) bool { return p.meta.ID == mp.ID })
	})
	if out != nil {
		next.Parts = append(next.Parts, m)
	}
	if err := writeManifest(s.opts.Dir, &next); err != nil {
		os.Remove(path)
		os.Remove(indexPath(path))
		return fmt.Errorf("compact %s: %w", key, err)
	}
	s.man = next
	list := slices.DeleteFunc(slices.Clone(s.parts[key]), func(p *part) bool { return slices.Contains(inputs, p) })
	if out != nil {
		list = append(list, out)
	}
	s.parts[key] = list
	for _, p := range inputs {
		p.removed.Store(true)
		p.release() // the list's reference; scans (and our own) hold theirs
	}
	s.metrics.compactions.Inc()
	s.metrics.compactionSeconds.Observe(time.Since(start).Seconds())
	s.opts.Logger.Debug("compacted event store parts", "dataset", key, "parts", len(inputs), "records", len(merged), "duration", time.Since(start))
	return nil
}
