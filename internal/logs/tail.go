package logs

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// tailHub fans newly stored records out to live-tail subscribers. Publishing
// never blocks ingest: a subscriber whose buffer is full misses records and
// is told how many.
type tailHub struct {
	mu   sync.RWMutex
	subs map[string]map[*Subscription]struct{} // by tenant
}

// Subscription receives the records of a live tail.
type Subscription struct {
	hub    *tailHub
	tenant string
	groups []string // nil: every group
	match  func(*eventstore.Record) bool
	ch     chan eventstore.Record
	missed atomic.Int64
	once   sync.Once
}

func (h *tailHub) subscribe(tenant string, groups []string, match func(*eventstore.Record) bool, buffer int) *Subscription {
	s := &Subscription{hub: h, tenant: tenant, groups: groups, match: match, ch: make(chan eventstore.Record, buffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[string]map[*Subscription]struct{}{}
	}
	if h.subs[tenant] == nil {
		h.subs[tenant] = map[*Subscription]struct{}{}
	}
	h.subs[tenant][s] = struct{}{}
	return s
}

// publish offers recs to the tenant's subscribers.
func (h *tailHub) publish(tenant string, recs []eventstore.Record) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs[tenant] {
		for i := range recs {
			r := &recs[i]
			if s.groups != nil && !slices.Contains(s.groups, r.Group) || s.match != nil && !s.match(r) {
				continue
			}
			select {
			case s.ch <- *r:
			default:
				s.missed.Add(1)
			}
		}
	}
}

// Records delivers matching records as they are stored. It is never closed;
// stop reading after Close.
func (s *Subscription) Records() <-chan eventstore.Record { return s.ch }

// TakeMissed returns how many records were dropped because the buffer was
// full since the last call, and resets the count.
func (s *Subscription) TakeMissed() int64 { return s.missed.Swap(0) }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.hub.mu.Lock()
		defer s.hub.mu.Unlock()
		delete(s.hub.subs[s.tenant], s)
		if len(s.hub.subs[s.tenant]) == 0 {
			delete(s.hub.subs, s.tenant)
		}
	})
}
