package traces

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// maxServiceMapCalls bounds the calls (client and producer spans) one
// service map holds while it pairs them with the spans they caused.
const maxServiceMapCalls = 5_000_000

type spanKey struct {
	trace [16]byte
	span  [8]byte
}

// call is a client or producer span: the caller's view of one request.
type call struct {
	service string
	target  Node // inferred from the span's attributes; Name "" if none
	dur     int64
	err     bool
}

// served is a server or consumer span with a parent: the callee's side.
type served struct {
	parent  spanKey
	service string
}

// stat accumulates requests, errors and durations.
type stat struct {
	requests, errors int64
	durs             []int64
}

func (s *stat) add(dur int64, err bool) {
	s.requests++
	if err {
		s.errors++
	}
	s.durs = append(s.durs, dur)
}

func (s *stat) merge(o *stat) {
	s.requests += o.requests
	s.errors += o.errors
	s.durs = append(s.durs, o.durs...)
}

func (s *stat) latency() Latency {
	slices.Sort(s.durs)
	q := func(p float64) time.Duration {
		if len(s.durs) == 0 {
			return 0
		}
		return time.Duration(s.durs[min(int(p*float64(len(s.durs))), len(s.durs)-1)])
	}
	return Latency{P50: q(0.50), P90: q(0.90), P99: q(0.99)}
}

type edgeKey struct{ source, target string }

// mapPart is what one scan visitor gathered.
type mapPart struct {
	calls  map[spanKey]call
	served []served
	nodes  map[string]*stat // service → spans it served (and root spans)
	roots  map[string]*stat // service → root spans: calls from outside
}

// ServiceMap builds the graph of services and what they call from the
// spans that started in [start, end). A call's target is the service
// whose server (or consumer) span has the call's span as parent; calls
// nobody answered for — databases, queues, external hosts, services
// without tracing — are named from the call's attributes (see the package
// documentation). Root spans get an edge from ClientNode.
func (s *Service) ServiceMap(ctx context.Context, tenant string, start, end time.Time) (ServiceMap, error) {
	if !end.After(start) {
		return ServiceMap{}, fmt.Errorf("%w: end %s is not after start %s", ErrInvalidQuery, end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		parts []*mapPart
		calls int
	)
	_, err := s.opts.Store.Scan(ctx, eventstore.Query{
		Tenant: tenant, Dataset: eventstore.DatasetSpans, Start: start.UnixNano(), End: end.UnixNano(),
		Columns: eventstore.ColGroup | eventstore.ColSpan | eventstore.ColTraceID | eventstore.ColSpanID | eventstore.ColAttributes,
		// Only calls need their attributes (to name what they call).
		Detail:     func(r *eventstore.Record) bool { return r.Kind == KindClient || r.Kind == KindProducer },
		MaxRecords: s.opts.Query.MaxRecords, MaxBytes: s.opts.Query.MaxBytes, Workers: s.opts.Query.Workers,
	}, func() eventstore.Visitor {
		p := &mapPart{calls: map[spanKey]call{}, nodes: map[string]*stat{}, roots: map[string]*stat{}}
		mu.Lock()
		parts = append(parts, p)
		mu.Unlock()
		return visitFunc(func(b *eventstore.Batch) error {
			n := len(p.calls)
			for i := range b.Records {
				p.add(&b.Records[i])
			}
			mu.Lock()
			calls += len(p.calls) - n
			over := calls > maxServiceMapCalls
			mu.Unlock()
			if over {
				return fmt.Errorf("%w: the time range holds more than %d calls; choose a shorter range", ErrInvalidQuery, maxServiceMapCalls)
			}
			return nil
		})
	})
	if err != nil {
		return ServiceMap{}, err
	}
	return buildMap(parts), nil
}

func (p *mapPart) add(r *eventstore.Record) {
	err := r.StatusCode == StatusError
	root := r.ParentSpanID == [8]byte{}
	switch r.Kind {
	case KindClient, KindProducer:
		p.calls[spanKey{r.TraceID, r.SpanID}] = call{service: r.Group, target: peerOf(r.Attributes), dur: r.Duration, err: err}
	case KindServer, KindConsumer:
		if !root {
			p.served = append(p.served, served{parent: spanKey{r.TraceID, r.ParentSpanID}, service: r.Group})
		}
	}
	if root || r.Kind == KindServer || r.Kind == KindConsumer {
		statOf(p.nodes, r.Group).add(r.Duration, err)
	}
	if root {
		statOf(p.roots, r.Group).add(r.Duration, err)
	}
}

func statOf[K comparable](m map[K]*stat, k K) *stat {
	s := m[k]
	if s == nil {
		s = &stat{}
		m[k] = s
	}
	return s
}

// peerOf names what a client or producer span calls from its attributes.
func peerOf(attrs []eventstore.Attr) Node {
	get := func(k string) string {
		for _, a := range attrs {
			if a.Key == k {
				return a.Value.String()
			}
		}
		return ""
	}
	peer := get("peer.service")
	switch {
	case get("db.system") != "":
		return Node{Name: cmp.Or(peer, get("db.name"), get("db.namespace"), get("server.address"), get("db.system")), Type: NodeDatabase}
	case get("messaging.system") != "":
		return Node{Name: cmp.Or(peer, get("messaging.destination.name"), get("messaging.system")), Type: NodeQueue}
	case peer != "":
		return Node{Name: peer, Type: NodeService}
	case get("server.address") != "":
		return Node{Name: get("server.address"), Type: NodeExternal}
	case get("net.peer.name") != "":
		return Node{Name: get("net.peer.name"), Type: NodeExternal}
	}
	return Node{}
}

func buildMap(parts []*mapPart) ServiceMap {
	all := &mapPart{calls: map[spanKey]call{}, nodes: map[string]*stat{}, roots: map[string]*stat{}}
	for _, p := range parts {
		for k, c := range p.calls {
			all.calls[k] = c
		}
		all.served = append(all.served, p.served...)
		for k, s := range p.nodes {
			statOf(all.nodes, k).merge(s)
		}
		for k, s := range p.roots {
			statOf(all.roots, k).merge(s)
		}
	}
	nodes := map[string]*Node{}
	node := func(name, typ string) {
		if nodes[name] == nil {
			nodes[name] = &Node{Name: name, Type: typ}
		}
	}
	for name, st := range all.nodes {
		node(name, NodeService)
		n := nodes[name]
		n.Requests, n.Errors, n.Latency = st.requests, st.errors, st.latency()
	}
	edges := map[edgeKey]*stat{}
	answered := make(map[spanKey]string, len(all.served))
	for _, sv := range all.served {
		answered[sv.parent] = sv.service
	}
	for k, c := range all.calls {
		node(c.service, NodeService)
		target, ok := answered[k]
		switch {
		case ok:
			node(target, NodeService)
		case c.target.Name != "":
			target = c.target.Name
			node(target, c.target.Type)
		default:
			continue
		}
		if target == c.service && !ok {
			continue
		}
		statOf(edges, edgeKey{c.service, target}).add(c.dur, c.err)
	}
	for svc, st := range all.roots {
		node(ClientNode, NodeClient)
		statOf(edges, edgeKey{ClientNode, svc}).merge(st)
	}
	var m ServiceMap
	for _, n := range nodes {
		m.Nodes = append(m.Nodes, *n)
	}
	for k, st := range edges {
		m.Edges = append(m.Edges, Edge{Source: k.source, Target: k.target, Requests: st.requests, Errors: st.errors, Latency: st.latency()})
	}
	slices.SortFunc(m.Nodes, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(m.Edges, func(a, b Edge) int { return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Target, b.Target)) })
	return m
}
