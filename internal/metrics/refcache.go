package metrics

import (
	"hash/maphash"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// refCache maps the encoded label fields of a remote-write 1.0 series to
// the series' head reference. Remote write 1.0 resends every label of a
// series with every sample; for a series the head already has, a hit
// skips building its labels and the TSDB's lookup by label hash, which
// together were about a third of the receive path.
//
// The key is the exact bytes of the label fields, so it identifies one
// label set; a series sent with its labels in another order has a second
// entry. Entries of series the head garbage-collects are dropped
// (seriesGate.PostDeletion); a reference that goes stale in between is
// refused by the TSDB, and writeV1 then falls back to the labels.
// It is safe for concurrent use.
type refCache struct {
	seed   maphash.Seed
	shards [64]refShard
}

type refShard struct {
	mu sync.RWMutex
	m  map[string]storage.SeriesRef
}

func newRefCache() *refCache { return &refCache{seed: maphash.MakeSeed()} }

func (c *refCache) shard(key []byte) *refShard {
	return &c.shards[maphash.Bytes(c.seed, key)%uint64(len(c.shards))]
}

// get returns the reference cached for key, or 0.
func (c *refCache) get(key []byte) storage.SeriesRef {
	if len(key) == 0 {
		return 0
	}
	s := c.shard(key)
	s.mu.RLock()
	ref := s.m[string(key)] // no allocation: the compiler looks up []byte keys in place
	s.mu.RUnlock()
	return ref
}

func (c *refCache) put(key []byte, ref storage.SeriesRef) {
	if len(key) == 0 || ref == 0 {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[string]storage.SeriesRef)
	}
	s.m[string(key)] = ref
	s.mu.Unlock()
}

func (c *refCache) forget(key []byte) {
	s := c.shard(key)
	s.mu.Lock()
	delete(s.m, string(key))
	s.mu.Unlock()
}

// drop removes the entries of series the head deleted.
func (c *refCache) drop(deleted map[chunks.HeadSeriesRef]labels.Labels) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, ref := range s.m {
			if _, ok := deleted[chunks.HeadSeriesRef(ref)]; ok {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

// len is the number of entries, for tests.
func (c *refCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += len(c.shards[i].m)
		c.shards[i].mu.RUnlock()
	}
	return n
}
