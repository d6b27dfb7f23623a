package traces

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/query/insights"
)

// DefaultSearchLimit is the number of traces a search returns by default.
const DefaultSearchLimit = 20

// MaxSearchLimit bounds the traces one search returns.
const MaxSearchLimit = 1500

// visitFunc adapts a function to eventstore.Visitor.
type visitFunc func(*eventstore.Batch) error

func (f visitFunc) Visit(b *eventstore.Batch) error { return f(b) }

// Trace returns every span of a trace, whatever its time, ordered by start
// time; nil when the trace is unknown. Spans stored twice (in progress then
// complete, or a retried batch) appear once.
func (s *Service) Trace(ctx context.Context, tenant string, id [16]byte) ([]eventstore.Record, error) {
	if id == ([16]byte{}) {
		return nil, fmt.Errorf("%w: trace id is all zeros", ErrInvalidQuery)
	}
	found, err := s.Traces(ctx, tenant, [][16]byte{id})
	return found[id], err
}

// Traces looks up several traces in one scan, as Trace does for one.
func (s *Service) Traces(ctx context.Context, tenant string, ids [][16]byte) (map[[16]byte][]eventstore.Record, error) {
	var (
		mu   sync.Mutex
		recs = map[[16]byte][]eventstore.Record{}
	)
	_, err := s.opts.Store.Scan(ctx, eventstore.Query{
		Tenant: tenant, Dataset: eventstore.DatasetSpans, TraceIDs: ids, Columns: eventstore.ColAll,
	}, func() eventstore.Visitor {
		return visitFunc(func(b *eventstore.Batch) error {
			mu.Lock()
			for _, r := range b.Records {
				recs[r.TraceID] = append(recs[r.TraceID], r)
			}
			mu.Unlock()
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for id, spans := range recs {
		recs[id] = assemble(spans)
	}
	return recs, nil
}

// assemble deduplicates a trace's spans by span id, moves spans whose
// service is unknown (X-Ray subsegments sent on their own) under their
// parent's service, and orders them by start time.
func assemble(recs []eventstore.Record) []eventstore.Record {
	if len(recs) == 0 {
		return nil
	}
	best := make(map[[8]byte]int, len(recs))
	out := recs[:0:0]
	for _, r := range recs {
		i, seen := best[r.SpanID]
		if !seen {
			best[r.SpanID] = len(out)
			out = append(out, r)
			continue
		}
		if better(&r, &out[i]) {
			out[i] = r
		}
	}
	for i := range out {
		if out[i].Group != UnknownService || !standalone(&out[i]) {
			continue
		}
		// Walk up to the first ancestor with a known service.
		for p, hops := out[i].ParentSpanID, 0; hops < len(out); hops++ {
			j, ok := best[p]
			if !ok {
				break
			}
			if out[j].Group != UnknownService {
				out[i].Group, out[i].Resource = out[j].Group, out[j].Resource
				break
			}
			p = out[j].ParentSpanID
		}
	}
	slices.SortStableFunc(out, func(a, b eventstore.Record) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Group, b.Group))
	})
	return out
}

// better reports whether a should replace b, both copies of one span: a
// complete span beats one in progress, then the later observed wins.
func better(a, b *eventstore.Record) bool {
	ia, ib := inProgress(a), inProgress(b)
	if ia != ib {
		return ib
	}
	return a.ObservedTime > b.ObservedTime
}

func inProgress(r *eventstore.Record) bool { return boolAttr(r.Attributes, "aws.xray.in_progress") }
func standalone(r *eventstore.Record) bool { return boolAttr(r.Attributes, "aws.xray.standalone") }

func boolAttr(attrs []eventstore.Attr, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.Kind == eventstore.KindBool && a.Value.Int != 0 || a.Value.Str == "true"
		}
	}
	return false
}

// Summarize describes a whole trace.
func Summarize(id [16]byte, spans []eventstore.Record) Summary {
	sum := Summary{TraceID: id, SpanCount: len(spans)}
	if len(spans) == 0 {
		return sum
	}
	ids := make(map[[8]byte]bool, len(spans))
	for _, r := range spans {
		ids[r.SpanID] = true
	}
	var root *eventstore.Record
	services := map[string]bool{}
	start, end := spans[0].Time, spans[0].Time+spans[0].Duration
	for i := range spans {
		r := &spans[i]
		start, end = min(start, r.Time), max(end, r.Time+r.Duration)
		services[r.Group] = true
		if r.StatusCode == StatusError {
			sum.ErrorCount++
		}
		if root == nil || rootRank(r, ids) < rootRank(root, ids) || rootRank(r, ids) == rootRank(root, ids) && r.Time < root.Time {
			root = r
		}
	}
	sum.RootService, sum.RootOperation = root.Group, root.Name
	sum.Start, sum.Duration = time.Unix(0, start), time.Duration(end-start)
	for svc := range services {
		sum.Services = append(sum.Services, svc)
	}
	slices.Sort(sum.Services)
	return sum
}

// rootRank orders a trace's candidate roots: a span without a parent,
// then one whose parent has not arrived, then any.
func rootRank(r *eventstore.Record, ids map[[8]byte]bool) int {
	switch {
	case r.ParentSpanID == [8]byte{}:
		return 0
	case !ids[r.ParentSpanID]:
		return 1
	}
	return 2
}

// Search finds the traces with a span matching q, the most recent first,
// and summarizes each whole trace.
func (s *Service) Search(ctx context.Context, tenant string, q SearchQuery) ([]Summary, error) {
	if !q.End.After(q.Start) {
		return nil, fmt.Errorf("%w: end %s is not after start %s", ErrInvalidQuery, q.End.UTC().Format(time.RFC3339), q.Start.UTC().Format(time.RFC3339))
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultSearchLimit
	case limit > MaxSearchLimit:
		return nil, fmt.Errorf("%w: limit %d is more than %d", ErrInvalidQuery, limit, MaxSearchLimit)
	}
	cheap, match, err := spanMatcher(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	sq := eventstore.Query{
		Tenant: tenant, Dataset: eventstore.DatasetSpans, Start: q.Start.UnixNano(), End: q.End.UnixNano(),
		Columns: eventstore.ColTraceID | eventstore.ColSpan, Workers: s.opts.Query.Workers,
		MaxRecords: s.opts.Query.MaxRecords, MaxBytes: s.opts.Query.MaxBytes,
	}
	if q.Service != "" {
		sq.Groups = []string{q.Service}
	}
	if len(q.Conditions) > 0 {
		sq.Columns |= eventstore.ColAttributes | eventstore.ColResource
		if q.Operation != "" || q.MinDuration > 0 || q.MaxDuration > 0 || q.ErrorsOnly {
			sq.Detail = cheap // attributes are parsed only for spans that pass the rest
		}
	}
	for _, c := range q.Conditions {
		if _, err := strconv.ParseFloat(c.Value, 64); c.Op == "=" && err != nil {
			sq.AttrEquals = append(sq.AttrEquals, eventstore.Attr{Key: c.Key, Value: eventstore.StringValue(c.Value)})
		}
	}
	// Scan windows back from the end, each twice the last, until enough
	// traces are found: a search for something common reads only the
	// newest spans instead of the whole range.
	found := &traceTop{n: limit, at: map[[16]byte]int{}}
	for winEnd, width := q.End, searchWindow; winEnd.After(q.Start); winEnd, width = winEnd.Add(-width), 2*width {
		winStart := maxTime(winEnd.Add(-width), q.Start)
		sq.Start, sq.End = winStart.UnixNano(), winEnd.UnixNano()
		window, err := s.scanTraces(ctx, sq, limit, match)
		if err != nil {
			return nil, err
		}
		for _, e := range window {
			found.offer(e.id, e.time)
		}
		if len(found.items) >= limit {
			break
		}
	}
	slices.SortFunc(found.items, func(a, b traceAt) int { return cmp.Compare(b.time, a.time) })
	return s.summaries(ctx, tenant, found.items)
}

// searchWindow is the first, newest window a search scans.
const searchWindow = 15 * time.Minute

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// scanTraces returns the limit traces with the latest spans matching in
// sq's range, newest first.
func (s *Service) scanTraces(ctx context.Context, sq eventstore.Query, limit int, match func(*eventstore.Record) bool) ([]traceAt, error) {
	var (
		mu   sync.Mutex
		tops []*traceTop
	)
	_, err := s.opts.Store.Scan(ctx, sq, func() eventstore.Visitor {
		t := &traceTop{n: limit, at: map[[16]byte]int{}}
		mu.Lock()
		tops = append(tops, t)
		mu.Unlock()
		return visitFunc(func(b *eventstore.Batch) error {
			for i := range b.Records {
				if r := &b.Records[i]; match(r) {
					t.offer(r.TraceID, r.Time)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	merged := &traceTop{n: limit, at: map[[16]byte]int{}}
	for _, t := range tops {
		for _, e := range t.items {
			merged.offer(e.id, e.time)
		}
	}
	slices.SortFunc(merged.items, func(a, b traceAt) int { return cmp.Compare(b.time, a.time) })
	return merged.items, nil
}

// summaries looks the traces up in one scan and summarizes each.
func (s *Service) summaries(ctx context.Context, tenant string, found []traceAt) ([]Summary, error) {
	ids := make([][16]byte, len(found))
	for i, f := range found {
		ids[i] = f.id
	}
	spans, err := s.Traces(ctx, tenant, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(found))
	for i, id := range ids {
		out[i] = Summarize(id, spans[id])
	}
	return out, nil
}

// spanMatcher compiles a search's span conditions: cheap tests only the
// span's own fields, match also its attributes.
func spanMatcher(q SearchQuery) (cheap, match func(*eventstore.Record) bool, err error) {
	if q.MinDuration < 0 || q.MaxDuration < 0 || q.MaxDuration > 0 && q.MaxDuration < q.MinDuration {
		return nil, nil, fmt.Errorf("%w: duration bounds [%s, %s] are not a range", ErrInvalidQuery, q.MinDuration, q.MaxDuration)
	}
	conds := make([]func(*eventstore.Record) bool, 0, len(q.Conditions))
	for _, c := range q.Conditions {
		m, err := c.compile()
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, m)
	}
	cheap = func(r *eventstore.Record) bool {
		return (q.Operation == "" || r.Name == q.Operation) &&
			(q.MinDuration == 0 || r.Duration >= int64(q.MinDuration)) &&
			(q.MaxDuration == 0 || r.Duration <= int64(q.MaxDuration)) &&
			(!q.ErrorsOnly || r.StatusCode == StatusError)
	}
	return cheap, func(r *eventstore.Record) bool {
		if !cheap(r) {
			return false
		}
		for _, c := range conds {
			if !c(r) {
				return false
			}
		}
		return true
	}, nil
}

func (c Condition) compile() (func(*eventstore.Record) bool, error) {
	if c.Key == "" {
		return nil, fmt.Errorf("%w: a condition needs an attribute name", ErrInvalidQuery)
	}
	want, wantNum := c.Value, false
	wantF, err := strconv.ParseFloat(want, 64)
	wantNum = err == nil
	var test func(v eventstore.Value) bool
	switch c.Op {
	case "exists":
		test = func(eventstore.Value) bool { return true }
	case "=", "!=", "<", "<=", ">", ">=":
		test = func(v eventstore.Value) bool {
			var d int
			if f, ok := number(v); ok && wantNum {
				d = cmp.Compare(f, wantF)
			} else {
				d = cmp.Compare(v.String(), want)
			}
			switch c.Op {
			case "=":
				return d == 0
			case "!=":
				return d != 0
			case "<":
				return d < 0
			case "<=":
				return d <= 0
			case ">":
				return d > 0
			}
			return d >= 0
		}
	default:
		return nil, fmt.Errorf("%w: condition on %q: unknown operator %q (want =, !=, <, <=, >, >= or exists)", ErrInvalidQuery, c.Key, c.Op)
	}
	return func(r *eventstore.Record) bool {
		v, ok := attr(r, c.Key)
		return ok && test(v)
	}, nil
}

func attr(r *eventstore.Record, key string) (eventstore.Value, bool) {
	for _, a := range r.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	for _, a := range r.Resource {
		if a.Key == key {
			return a.Value, true
		}
	}
	return eventstore.Value{}, false
}

func number(v eventstore.Value) (float64, bool) {
	switch v.Kind {
	case eventstore.KindInt:
		return float64(v.Int), true
	case eventstore.KindFloat:
		return v.Float, true
	case eventstore.KindString:
		f, err := strconv.ParseFloat(v.Str, 64)
		return f, err == nil
	}
	return 0, false
}

// traceAt is a trace and its latest matching span start.
type traceAt struct {
	id   [16]byte
	time int64
}

// traceTop keeps the n traces with the latest matching spans: a min-heap
// by time with an index by id.
type traceTop struct {
	n     int
	items []traceAt
	at    map[[16]byte]int
}

func (t *traceTop) offer(id [16]byte, ts int64) {
	if i, ok := t.at[id]; ok {
		if ts > t.items[i].time {
			t.items[i].time = ts
			heap.Fix(t, i)
		}
		return
	}
	if len(t.items) < t.n {
		heap.Push(t, traceAt{id, ts})
		return
	}
	if ts <= t.items[0].time {
		return
	}
	delete(t.at, t.items[0].id)
	t.items[0] = traceAt{id, ts}
	t.at[id] = 0
	heap.Fix(t, 0)
}

func (t *traceTop) Len() int           { return len(t.items) }
func (t *traceTop) Less(i, j int) bool { return t.items[i].time < t.items[j].time }
func (t *traceTop) Swap(i, j int) {
	t.items[i], t.items[j] = t.items[j], t.items[i]
	t.at[t.items[i].id], t.at[t.items[j].id] = i, j
}
func (t *traceTop) Push(x any) {
	e := x.(traceAt)
	t.at[e.id] = len(t.items)
	t.items = append(t.items, e)
}
func (t *traceTop) Pop() any {
	e := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	delete(t.at, e.id)
	return e
}

func (s *Service) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d := s.opts.Query.Timeout; d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}

// Services lists the services with spans stored in [start, end) (by the
// time range each service's stored spans cover), sorted.
func (s *Service) Services(ctx context.Context, tenant string, start, end time.Time) ([]string, error) {
	out := []string{}
	for _, g := range s.opts.Store.Groups(tenant, eventstore.DatasetSpans) {
		if g.FirstTime < end.UnixNano() && g.LastTime >= start.UnixNano() {
			out = append(out, g.Name)
		}
	}
	return out, nil
}

// Operations lists the span names (and kinds) of a service in a time range.
func (s *Service) Operations(ctx context.Context, tenant, service string, start, end time.Time) ([]Operation, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var (
		mu  sync.Mutex
		ops = map[Operation]bool{}
	)
	_, err := s.opts.Store.Scan(ctx, eventstore.Query{
		Tenant: tenant, Dataset: eventstore.DatasetSpans, Groups: []string{service},
		Start: start.UnixNano(), End: end.UnixNano(), Columns: eventstore.ColSpan,
		MaxRecords: s.opts.Query.MaxRecords, MaxBytes: s.opts.Query.MaxBytes, Workers: s.opts.Query.Workers,
	}, func() eventstore.Visitor {
		local := map[Operation]bool{}
		return visitFunc(func(b *eventstore.Batch) error {
			n := len(local)
			for i := range b.Records {
				local[Operation{b.Records[i].Name, b.Records[i].Kind}] = true
			}
			if len(local) > n {
				mu.Lock()
				for op := range local {
					ops[op] = true
				}
				mu.Unlock()
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([]Operation, 0, len(ops))
	for op := range ops {
		out = append(out, op)
	}
	slices.SortFunc(out, func(a, b Operation) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind)) })
	return out, nil
}

// QueryRequest is an Insights query over spans.
type QueryRequest struct {
	Query    string
	Services []string // empty: every service
	Start    time.Time
	End      time.Time
}

// QueryResult is a query's answer.
type QueryResult struct {
	*query.Result
	Duration time.Duration
}

// Query runs an Insights pipeline over spans: the fields are the span's
// (service, name, kind, duration in ns, durationMs, status, traceId,
// spanId, parentId) and its attributes.
func (s *Service) Query(ctx context.Context, tenant string, req QueryRequest) (*QueryResult, error) {
	if !req.End.After(req.Start) {
		return nil, fmt.Errorf("%w: end %s is not after start %s", ErrInvalidQuery, req.End.UTC().Format(time.RFC3339), req.Start.UTC().Format(time.RFC3339))
	}
	plan, err := insights.Compile(req.Query, query.Spans)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	q := s.opts.Query
	began := time.Now()
	res, err := query.Run(ctx, s.opts.Store, plan, query.Request{
		Tenant: tenant, Dataset: eventstore.DatasetSpans, Groups: req.Services,
		Start: req.Start.UnixNano(), End: req.End.UnixNano(),
		MaxRecords: q.MaxRecords, MaxBytes: q.MaxBytes, MaxRows: q.MaxRows, Workers: q.Workers,
	})
	if err != nil {
		return nil, err
	}
	return &QueryResult{Result: res, Duration: time.Since(began)}, nil
}
