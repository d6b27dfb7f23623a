package logs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/query/filterpattern"
	"github.com/miradorhq/mirador/internal/query/insights"
)

// ErrInvalidQuery wraps every error a caller can fix in a query request.
var ErrInvalidQuery = errors.New("invalid query")

// QueryRequest is a Logs Insights query over some groups and a time range.
type QueryRequest struct {
	Query  string
	Groups []string // empty: every group of the tenant
	Start  time.Time
	End    time.Time
}

// QueryResult is a query's answer.
type QueryResult struct {
	*query.Result
	Duration time.Duration
}

// Query runs a Logs Insights query.
func (s *Service) Query(ctx context.Context, tenant string, req QueryRequest) (*QueryResult, error) {
	plan, err := insights.Compile(req.Query, query.Logs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	return s.run(ctx, tenant, plan, req.Groups, req.Start, req.End)
}

func (s *Service) run(ctx context.Context, tenant string, plan *query.Plan, groups []string, start, end time.Time) (*QueryResult, error) {
	if err := s.checkRange(start, end); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if _, err := s.opts.Groups.Get(ctx, tenant, g); err != nil {
			return nil, err
		}
	}
	q := s.opts.Query
	if q.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.Timeout)
		defer cancel()
	}
	began := time.Now()
	res, err := query.Run(ctx, s.opts.Store, plan, query.Request{
		Tenant: tenant, Dataset: eventstore.DatasetLogs, Groups: groups,
		Start: start.UnixNano(), End: end.UnixNano(),
		MaxRecords: q.MaxRecords, MaxBytes: q.MaxBytes, MaxRows: q.MaxRows, Workers: q.Workers,
	})
	if err != nil {
		return nil, err
	}
	return &QueryResult{Result: res, Duration: time.Since(began)}, nil
}

func (s *Service) checkRange(start, end time.Time) error {
	if !end.After(start) {
		return fmt.Errorf("%w: end %s is not after start %s", ErrInvalidQuery, end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	return nil
}

// FilterRequest searches groups with a CloudWatch filter pattern, like
// FilterLogEvents: events come oldest first, a page at a time.
type FilterRequest struct {
	Pattern   string
	Groups    []string
	Start     time.Time
	End       time.Time
	Limit     int    // 1 to 10,000; 0 means 10,000
	NextToken string // from the previous page
}

// Event is one log record in a filter result.
type Event struct {
	Timestamp     int64  `json:"timestamp"`     // Unix ms
	IngestionTime int64  `json:"ingestionTime"` // Unix ms
	Group         string `json:"group"`
	Stream        string `json:"stream"`
	Message       string `json:"message"`
	Severity      string `json:"severity,omitempty"`
}

// FilterResult is one page of a filter search.
type FilterResult struct {
	Events        []Event
	NextToken     string // empty on the last page
	Partial       bool
	PartialReason string
	Stats         eventstore.ScanStats
	Duration      time.Duration
}

// MaxFilterLimit is the most events one filter page returns.
const MaxFilterLimit = 10_000

// Filter runs a filter-pattern search.
func (s *Service) Filter(ctx context.Context, tenant string, req FilterRequest) (*FilterResult, error) {
	pat, err := filterpattern.Parse(req.Pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	limit := req.Limit
	switch {
	case limit == 0:
		limit = MaxFilterLimit
	case limit < 0 || limit > MaxFilterLimit:
		return nil, fmt.Errorf("%w: limit %d is out of range; use 1 to %d", ErrInvalidQuery, limit, MaxFilterLimit)
	}
	start, skip := req.Start, 0
	if req.NextToken != "" {
		t, n, err := decodeToken(req.NextToken)
		if err != nil {
			return nil, err
		}
		if t.After(start) {
			start = t
		}
		skip = n
	}
	cols := eventstore.ColTime | eventstore.ColObservedTime | eventstore.ColGroup | eventstore.ColStream | eventstore.ColBody | eventstore.ColSeverity
	if pat.IsJSON() {
		cols |= eventstore.ColAttributes | eventstore.ColResource
	}
	plan := query.NewPredicatePlan(matcher(pat), pat.Needles(), cols, limit+skip, true)
	res, err := s.run(ctx, tenant, plan, req.Groups, start, req.End)
	if err != nil {
		return nil, err
	}
	out := &FilterResult{Partial: res.Partial, PartialReason: res.PartialReason, Stats: res.Stats, Duration: res.Duration}
	events := make([]Event, len(res.Records))
	for i := range res.Records {
		events[i] = EventOf(&res.Records[i])
	}
	if skip > len(events) {
		skip = len(events)
	}
	page := events[skip:]
	if len(page) == limit && limit > 0 {
		last := page[len(page)-1]
		same := 0 // events of the page at the last timestamp, plus those skipped before it
		for i := len(events) - 1; i >= 0 && events[i].Timestamp == last.Timestamp; i-- {
			same++
		}
		out.NextToken = encodeToken(time.UnixMilli(last.Timestamp), same)
	}
	out.Events = page
	return out, nil
}

// matcher adapts a filter pattern to records: JSON selectors look at the
// message and, when it is not JSON, at the record's attributes.
func matcher(p *filterpattern.Pattern) func(r *eventstore.Record) bool {
	return func(r *eventstore.Record) bool {
		return p.Match(filterpattern.Event{Message: r.Body, Fields: func(path string) (eventstore.Value, bool) {
			return RecordField(r, path)
		}})
	}
}

// RecordField resolves a JSON field of a record as filter patterns see it:
// an attribute, a resource attribute, or the level ("level", "severity"),
// which NDJSON ingest keeps as the record's severity rather than as an
// attribute.
func RecordField(r *eventstore.Record, key string) (eventstore.Value, bool) {
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
	if r.SeverityText != "" && slices.Contains(levelKeys, key) {
		return eventstore.StringValue(r.SeverityText), true
	}
	return eventstore.Value{}, false
}

// Tail subscribes to records of groups (nil: all) matching pattern as they
// are stored. The caller must Close the subscription.
func (s *Service) Tail(tenant string, groups []string, pattern string) (*Subscription, error) {
	pat, err := filterpattern.Parse(pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	for _, g := range groups { // a group may be tailed before its first record
		if err := ValidateGroupName(g); err != nil {
			return nil, err
		}
	}
	return s.tail.subscribe(tenant, groups, matcher(pat), s.opts.TailBuffer), nil
}

// EventOf converts a record for the filter and tail APIs.
func EventOf(r *eventstore.Record) Event {
	return Event{
		Timestamp: r.Time / 1e6, IngestionTime: r.ObservedTime / 1e6,
		Group: r.Group, Stream: r.Stream, Message: r.Body, Severity: r.SeverityText,
	}
}

// Token format: "<unix ms>.<events at that ms already returned>", base64url.
func encodeToken(t time.Time, skip int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMilli(), 10) + "." + strconv.Itoa(skip)))
}

func decodeToken(tok string) (time.Time, int, error) {
	bad := fmt.Errorf("%w: nextToken %q is not one this server issued; pass the nextToken of the previous page unchanged", ErrInvalidQuery, truncate(tok, 64))
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return time.Time{}, 0, bad
	}
	ms, n, ok := strings.Cut(string(raw), ".")
	t, err1 := strconv.ParseInt(ms, 10, 64)
	skip, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || skip < 0 {
		return time.Time{}, 0, bad
	}
	return time.UnixMilli(t), skip, nil
}
