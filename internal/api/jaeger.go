package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/tenant"
	"github.com/miradorhq/mirador/internal/traces"
)

// The Jaeger query API (jaeger-query's HTTP JSON API, what its UI and
// Grafana's Jaeger data source call) under JaegerPrefix, so a data source
// with URL http://host:7070/jaeger works.

// JaegerPrefix is where the Jaeger query API is mounted.
const JaegerPrefix = "/jaeger/api"

// jaegerReply is Jaeger's response envelope.
type jaegerReply struct {
	Data   any           `json:"data"`
	Total  int           `json:"total"`
	Limit  int           `json:"limit"`
	Offset int           `json:"offset"`
	Errors []jaegerError `json:"errors"`
}

type jaegerError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func writeJaeger(w http.ResponseWriter, data any, total int) {
	writeJSON(w, http.StatusOK, jaegerReply{Data: data, Total: total})
}

func writeJaegerError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, jaegerReply{Errors: []jaegerError{{Code: status, Msg: fmt.Sprintf(format, args...)}}})
}

// writeJaegerFailure answers a traces service error.
func writeJaegerFailure(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, traces.ErrInvalidQuery):
		status = http.StatusBadRequest
	case errors.Is(err, eventstore.ErrClosed):
		status = http.StatusServiceUnavailable
	}
	writeJaegerError(w, status, "%v", err)
}

type jaegerKV struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type jaegerRef struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerLog struct {
	Timestamp int64      `json:"timestamp"`
	Fields    []jaegerKV `json:"fields"`
}

type jaegerSpan struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	Flags         int         `json:"flags"`
	OperationName string      `json:"operationName"`
	References    []jaegerRef `json:"references"`
	StartTime     int64       `json:"startTime"` // µs
	Duration      int64       `json:"duration"`  // µs
	Tags          []jaegerKV  `json:"tags"`
	Logs          []jaegerLog `json:"logs"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

type jaegerProcess struct {
	ServiceName string     `json:"serviceName"`
	Tags        []jaegerKV `json:"tags"`
}

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
	Warnings  []string                 `json:"warnings"`
}

// jaegerTraceID prints a trace id as Jaeger does: 16 hex digits when the
// high half is zero, else 32.
func jaegerTraceID(id [16]byte) string {
	if [8]byte(id[:8]) == ([8]byte{}) {
		return hex.EncodeToString(id[8:])
	}
	return hex.EncodeToString(id[:])
}

func jaegerKVs(attrs []eventstore.Attr) []jaegerKV {
	out := make([]jaegerKV, 0, len(attrs))
	for _, a := range attrs {
		kv := jaegerKV{Key: a.Key, Type: "string", Value: a.Value.Str}
		switch a.Value.Kind {
		case eventstore.KindInt:
			kv.Type, kv.Value = "int64", a.Value.Int
		case eventstore.KindFloat:
			kv.Type, kv.Value = "float64", a.Value.Float
		case eventstore.KindBool:
			kv.Type, kv.Value = "bool", a.Value.Int != 0
		}
		out = append(out, kv)
	}
	return out
}

// toJaegerTrace converts a trace's spans; processes are deduplicated by
// service and resource.
func toJaegerTrace(id [16]byte, spans []eventstore.Record) jaegerTrace {
	tid := jaegerTraceID(id)
	tr := jaegerTrace{TraceID: tid, Processes: map[string]jaegerProcess{}}
	procs := map[string]string{} // service + resource → process id
	for i := range spans {
		r := &spans[i]
		res, _ := json.Marshal(r.Resource)
		key := r.Group + "\x00" + string(res)
		pid, ok := procs[key]
		if !ok {
			pid = "p" + strconv.Itoa(len(procs)+1)
			procs[key] = pid
			tr.Processes[pid] = jaegerProcess{ServiceName: r.Group, Tags: jaegerKVs(r.Resource)}
		}
		s := jaegerSpan{
			TraceID: tid, SpanID: hex.EncodeToString(r.SpanID[:]), Flags: 1, OperationName: r.Name,
			References: []jaegerRef{}, StartTime: r.Time / 1e3, Duration: r.Duration / 1e3,
			Tags: jaegerKVs(r.Attributes), Logs: []jaegerLog{}, ProcessID: pid,
		}
		if r.ParentSpanID != ([8]byte{}) {
			s.References = append(s.References, jaegerRef{RefType: "CHILD_OF", TraceID: tid, SpanID: hex.EncodeToString(r.ParentSpanID[:])})
		}
		for _, l := range r.Links {
			s.References = append(s.References, jaegerRef{RefType: "FOLLOWS_FROM", TraceID: jaegerTraceID(l.TraceID), SpanID: hex.EncodeToString(l.SpanID[:])})
		}
		if r.Kind != traces.KindUnspecified {
			s.Tags = append(s.Tags, jaegerKV{Key: "span.kind", Type: "string", Value: query.SpanKindName(r.Kind)})
		}
		if r.StatusCode != traces.StatusUnset {
			s.Tags = append(s.Tags, jaegerKV{Key: "otel.status_code", Type: "string", Value: strings.ToUpper(query.StatusName(r.StatusCode))})
		}
		if r.StatusCode == traces.StatusError {
			s.Tags = append(s.Tags, jaegerKV{Key: "error", Type: "bool", Value: true})
			if r.StatusMessage != "" {
				s.Tags = append(s.Tags, jaegerKV{Key: "otel.status_description", Type: "string", Value: r.StatusMessage})
			}
		}
		for _, e := range r.Events {
			fields := append([]jaegerKV{{Key: "event", Type: "string", Value: e.Name}}, jaegerKVs(e.Attributes)...)
			s.Logs = append(s.Logs, jaegerLog{Timestamp: e.Time / 1e3, Fields: fields})
		}
		tr.Spans = append(tr.Spans, s)
	}
	return tr
}

// jaegerRange reads Jaeger's start and end (µs since the epoch) or
// lookback (e.g. 1h, 2d) ending now; the default is the last hour.
func jaegerRange(q map[string][]string, now time.Time) (time.Time, time.Time, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	end := now
	if v := get("end"); v != "" {
		us, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("end %q: want microseconds since the epoch", v)
		}
		end = time.UnixMicro(us)
	}
	start := end.Add(-time.Hour)
	if v := get("lookback"); v != "" && v != "custom" {
		d, err := parseLookback(v)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		start = end.Add(-d)
	}
	if v := get("start"); v != "" {
		us, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("start %q: want microseconds since the epoch", v)
		}
		start = time.UnixMicro(us)
	}
	if !end.After(start) {
		return time.Time{}, time.Time{}, fmt.Errorf("end %s is not after start %s", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	return start, end, nil
}

func parseLookback(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("lookback %q: want a duration such as 1h or 2d", v)
	}
	return d, nil
}

// jaegerSearch reads /api/traces parameters into a search.
func jaegerSearch(q map[string][]string, now time.Time) (traces.SearchQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var sq traces.SearchQuery
	var err error
	if sq.Start, sq.End, err = jaegerRange(q, now); err != nil {
		return sq, err
	}
	sq.Service, sq.Operation = get("service"), get("operation")
	if sq.Service == "" {
		return sq, fmt.Errorf("parameter service is required")
	}
	for _, p := range []struct {
		name string
		dst  *time.Duration
	}{{"minDuration", &sq.MinDuration}, {"maxDuration", &sq.MaxDuration}} {
		if v := get(p.name); v != "" {
			if *p.dst, err = time.ParseDuration(v); err != nil {
				return sq, fmt.Errorf("%s %q: want a duration such as 100ms or 1.2s", p.name, v)
			}
		}
	}
	if v := get("limit"); v != "" {
		if sq.Limit, err = strconv.Atoi(v); err != nil || sq.Limit < 0 || sq.Limit > traces.MaxSearchLimit {
			return sq, fmt.Errorf("limit %q: want a number from 0 to %d", v, traces.MaxSearchLimit)
		}
	}
	tags := map[string]string{}
	if v := get("tags"); v != "" {
		if err := json.Unmarshal([]byte(v), &tags); err != nil {
			return sq, fmt.Errorf("tags %q: want a JSON object of strings, e.g. {\"http.status_code\":\"500\"}", v)
		}
	}
	for _, t := range q["tag"] {
		k, v, ok := strings.Cut(t, ":")
		if !ok || k == "" {
			return sq, fmt.Errorf("tag %q: want key:value", t)
		}
		tags[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		v := tags[k]
		if k == "error" && v == "true" {
			sq.ErrorsOnly = true // error is the span's status, not an attribute
			continue
		}
		sq.Conditions = append(sq.Conditions, traces.Condition{Key: k, Op: "=", Value: v})
	}
	return sq, nil
}

// jaegerServices serves GET /jaeger/api/services.
func (o Options) jaegerServices() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := tenant.FromContext(r.Context())
		svcs, err := o.Traces.Services(r.Context(), t, time.Unix(0, 0), time.Now().Add(time.Hour))
		if err != nil {
			writeJaegerFailure(w, err)
			return
		}
		writeJaeger(w, svcs, len(svcs))
	})
}

// jaegerOperations serves GET /jaeger/api/operations?service=S[&spanKind=K]
// ([{name, spanKind}]) and GET /jaeger/api/services/{service}/operations
// (names only), over the last 7 days.
func (o Options) jaegerOperations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		service, legacy := r.PathValue("service"), true
		if service == "" {
			service, legacy = r.URL.Query().Get("service"), false
		}
		if service == "" {
			writeJaegerError(w, http.StatusBadRequest, "parameter service is required")
			return
		}
		kind := r.URL.Query().Get("spanKind")
		t, _ := tenant.FromContext(r.Context())
		now := time.Now()
		ops, err := o.Traces.Operations(r.Context(), t, service, now.Add(-7*24*time.Hour), now.Add(time.Hour))
		if err != nil {
			writeJaegerFailure(w, err)
			return
		}
		if legacy {
			names := []string{}
			for _, op := range ops {
				if !slices.Contains(names, op.Name) {
					names = append(names, op.Name)
				}
			}
			writeJaeger(w, names, len(names))
			return
		}
		type operation struct {
			Name     string `json:"name"`
			SpanKind string `json:"spanKind"`
		}
		out := []operation{}
		for _, op := range ops {
			k := query.SpanKindName(op.Kind)
			if k == "unspecified" {
				k = ""
			}
			if kind == "" || kind == k {
				out = append(out, operation{op.Name, k})
			}
		}
		writeJaeger(w, out, len(out))
	})
}

// jaegerTraces serves GET /jaeger/api/traces: a search returning whole traces.
func (o Options) jaegerTraces() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := tenant.FromContext(r.Context())
		q := r.URL.Query()
		if ids := q["traceID"]; len(ids) > 0 {
			o.jaegerTracesByID(w, r, t, ids)
			return
		}
		sq, err := jaegerSearch(q, time.Now())
		if err != nil {
			writeJaegerError(w, http.StatusBadRequest, "%v", err)
			return
		}
		found, err := o.Traces.Search(r.Context(), t, sq)
		if err != nil {
			writeJaegerFailure(w, err)
			return
		}
		ids := make([][16]byte, len(found))
		for i, f := range found {
			ids[i] = f.TraceID
		}
		spans, err := o.Traces.Traces(r.Context(), t, ids)
		if err != nil {
			writeJaegerFailure(w, err)
			return
		}
		out := make([]jaegerTrace, 0, len(ids))
		for _, id := range ids {
			out = append(out, toJaegerTrace(id, spans[id]))
		}
		writeJaeger(w, out, len(out))
	})
}

func (o Options) jaegerTracesByID(w http.ResponseWriter, r *http.Request, t string, raw []string) {
	ids := make([][16]byte, 0, len(raw))
	for _, s := range raw {
		id, err := traces.ParseTraceID(s)
		if err != nil {
			writeJaegerError(w, http.StatusBadRequest, "%v", err)
			return
		}
		ids = append(ids, id)
	}
	spans, err := o.Traces.Traces(r.Context(), t, ids)
	if err != nil {
		writeJaegerFailure(w, err)
		return
	}
	out := []jaegerTrace{}
	for _, id := range ids {
		if len(spans[id]) > 0 {
			out = append(out, toJaegerTrace(id, spans[id]))
		}
	}
	if len(out) == 0 {
		writeJaegerError(w, http.StatusNotFound, "trace not found")
		return
	}
	writeJaeger(w, out, len(out))
}

// jaegerTrace serves GET /jaeger/api/traces/{traceID}.
func (o Options) jaegerTrace() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := tenant.FromContext(r.Context())
		o.jaegerTracesByID(w, r, t, []string{r.PathValue("traceID")})
	})
}

// jaegerDependencies serves GET /jaeger/api/dependencies?endTs=&lookback=
// (milliseconds): the service map's service-to-service edges.
func (o Options) jaegerDependencies() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		end, lookback := time.Now(), 24*time.Hour
		for _, p := range []struct {
			name string
			set  func(ms int64)
		}{
			{"endTs", func(ms int64) { end = time.UnixMilli(ms) }},
			{"lookback", func(ms int64) { lookback = time.Duration(ms) * time.Millisecond }},
		} {
			if v := r.URL.Query().Get(p.name); v != "" {
				ms, err := strconv.ParseInt(v, 10, 64)
				if err != nil || ms <= 0 {
					writeJaegerError(w, http.StatusBadRequest, "%s %q: want a positive number of milliseconds", p.name, v)
					return
				}
				p.set(ms)
			}
		}
		t, _ := tenant.FromContext(r.Context())
		m, err := o.Traces.ServiceMap(r.Context(), t, end.Add(-lookback), end)
		if err != nil {
			writeJaegerFailure(w, err)
			return
		}
		type dependency struct {
			Parent    string `json:"parent"`
			Child     string `json:"child"`
			CallCount int64  `json:"callCount"`
		}
		out := []dependency{}
		for _, e := range m.Edges {
			if e.Source != traces.ClientNode {
				out = append(out, dependency{e.Source, e.Target, e.Requests})
			}
		}
		writeJaeger(w, out, len(out))
	})
}
