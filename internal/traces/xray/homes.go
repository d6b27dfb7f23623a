package xray

import (
	"sync"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// home is what a span inherits from its segment: the service, the resource
// and its stream. Records share a home's Resource slice; nobody modifies it.
type home struct {
	service  string
	stream   string
	resource []eventstore.Attr
}

// unknownHome is the home of standalone subsegments whose parent the
// Decoder has not seen.
var unknownHome = &home{
	service:  UnknownService,
	stream:   UnknownService,
	resource: []eventstore.Attr{{Key: "service.name", Value: eventstore.StringValue(UnknownService)}},
}

type homeKey struct {
	trace [16]byte
	span  [8]byte
}

// homeCache maps segment and subsegment ids to their home. It is
// generational: when the current map holds half the capacity it becomes the
// previous one and the old previous one is dropped, so memory is bounded
// and recently used ids survive (a hit in the previous generation is copied
// forward). Safe for concurrent use.
type homeCache struct {
	mu        sync.Mutex
	max       int
	cur, prev map[homeKey]*home
}

func newHomeCache(max int) *homeCache {
	return &homeCache{max: max, cur: make(map[homeKey]*home)}
}

func (c *homeCache) get(k homeKey) *home {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.cur[k]; ok {
		return h
	}
	h, ok := c.prev[k]
	if ok {
		c.putLocked(k, h)
	}
	return h
}

// putAll records the home of every span of recs.
func (c *homeCache) putAll(recs []eventstore.Record, h *home) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range recs {
		c.putLocked(homeKey{recs[i].TraceID, recs[i].SpanID}, h)
	}
}

func (c *homeCache) putLocked(k homeKey, h *home) {
	c.cur[k] = h
	if len(c.cur) >= c.max/2 {
		c.prev, c.cur = c.cur, make(map[homeKey]*home, len(c.cur))
	}
}

func (c *homeCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
