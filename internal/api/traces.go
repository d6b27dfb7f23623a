package api

import (
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/tenant"
	"github.com/miradorhq/mirador/internal/traces"
	"github.com/miradorhq/mirador/internal/traces/xray"
	"github.com/miradorhq/mirador/internal/traces/zipkin"
)

// writeTracesError answers with the status an error of the traces service
// calls for.
func writeTracesError(w http.ResponseWriter, err error) {
	var rate *ingest.RateLimitError
	switch {
	case errors.As(err, &rate):
		if d := rate.RetryDelay(); d > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10))
		}
		writeError(w, rate.StatusCode(), "%v", err)
	case errors.Is(err, errInvalidInput), errors.Is(err, traces.ErrInvalidQuery):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, eventstore.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "%v: the server is shutting down; retry", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// spanJSON is a span as the native API returns it.
type spanJSON struct {
	TraceID       string         `json:"traceId"`
	SpanID        string         `json:"spanId"`
	ParentSpanID  string         `json:"parentSpanId,omitempty"`
	Service       string         `json:"service"`
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`
	StartTime     time.Time      `json:"startTime"`
	DurationNanos int64          `json:"durationNanos"`
	Status        statusJSON     `json:"status"`
	Attributes    map[string]any `json:"attributes,omitempty"`
	Resource      map[string]any `json:"resource,omitempty"`
	Events        []eventJSON    `json:"events,omitempty"`
	Links         []linkJSON     `json:"links,omitempty"`
}

type statusJSON struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

type eventJSON struct {
	Time       time.Time      `json:"time"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

type linkJSON struct {
	TraceID    string         `json:"traceId"`
	SpanID     string         `json:"spanId"`
	TraceState string         `json:"traceState,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

func attrsJSON(attrs []eventstore.Attr) map[string]any {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]any, len(attrs))
	for _, a := range attrs {
		switch a.Value.Kind {
		case eventstore.KindInt:
			m[a.Key] = a.Value.Int
		case eventstore.KindFloat:
			m[a.Key] = a.Value.Float
		case eventstore.KindBool:
			m[a.Key] = a.Value.Int != 0
		default:
			m[a.Key] = a.Value.Str
		}
	}
	return m
}

func hexID(b []byte) string {
	for _, c := range b {
		if c != 0 {
			return hex.EncodeToString(b)
		}
	}
	return ""
}

func toSpanJSON(r *eventstore.Record) spanJSON {
	s := spanJSON{
		TraceID: hexID(r.TraceID[:]), SpanID: hexID(r.SpanID[:]), ParentSpanID: hexID(r.ParentSpanID[:]),
		Service: r.Group, Name: r.Name, Kind: query.SpanKindName(r.Kind),
		StartTime: time.Unix(0, r.Time).UTC(), DurationNanos: r.Duration,
		Status:     statusJSON{Code: query.StatusName(r.StatusCode), Message: r.StatusMessage},
		Attributes: attrsJSON(r.Attributes), Resource: attrsJSON(r.Resource),
	}
	for _, e := range r.Events {
		s.Events = append(s.Events, eventJSON{Time: time.Unix(0, e.Time).UTC(), Name: e.Name, Attributes: attrsJSON(e.Attributes)})
	}
	for _, l := range r.Links {
		s.Links = append(s.Links, linkJSON{TraceID: hexID(l.TraceID[:]), SpanID: hexID(l.SpanID[:]), TraceState: l.TraceState, Attributes: attrsJSON(l.Attributes)})
	}
	return s
}

type summaryJSON struct {
	TraceID       string    `json:"traceId"`
	XRayTraceID   string    `json:"xrayTraceId"`
	RootService   string    `json:"rootService"`
	RootOperation string    `json:"rootOperation"`
	StartTime     time.Time `json:"startTime"`
	DurationNanos int64     `json:"durationNanos"`
	SpanCount     int       `json:"spanCount"`
	ErrorCount    int       `json:"errorCount"`
	Services      []string  `json:"services"`
}

func toSummaryJSON(s traces.Summary) summaryJSON {
	return summaryJSON{
		TraceID: hex.EncodeToString(s.TraceID[:]), XRayTraceID: xray.FormatTraceID(s.TraceID),
		RootService: s.RootService, RootOperation: s.RootOperation,
		StartTime: s.Start.UTC(), DurationNanos: int64(s.Duration),
		SpanCount: s.SpanCount, ErrorCount: s.ErrorCount, Services: s.Services,
	}
}

// getTrace serves GET /api/v1/traces/{traceId}: the whole trace, whatever
// its time.
func (o Options) getTrace() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := traces.ParseTraceID(r.PathValue("traceId"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		t, _ := tenant.FromContext(r.Context())
		spans, err := o.Traces.Trace(r.Context(), t, id)
		if err != nil {
			writeTracesError(w, err)
			return
		}
		if len(spans) == 0 {
			writeError(w, http.StatusNotFound, "trace %s not found", hex.EncodeToString(id[:]))
			return
		}
		out := struct {
			summaryJSON
			Spans []spanJSON `json:"spans"`
		}{summaryJSON: toSummaryJSON(traces.Summarize(id, spans)), Spans: make([]spanJSON, len(spans))}
		for i := range spans {
			out.Spans[i] = toSpanJSON(&spans[i])
		}
		writeData(w, http.StatusOK, out)
	})
}

// searchTraces serves POST /api/v1/traces/search.
func (o Options) searchTraces() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Service     string             `json:"service"`
			Operation   string             `json:"operation"`
			Conditions  []traces.Condition `json:"conditions"`
			MinDuration string             `json:"minDuration"`
			MaxDuration string             `json:"maxDuration"`
			Error       bool               `json:"error"`
			Start       string             `json:"start"`
			End         string             `json:"end"`
			Limit       int                `json:"limit"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		start, end, err := timeRange(req.Start, req.End)
		if err != nil {
			writeTracesError(w, err)
			return
		}
		q := traces.SearchQuery{Service: req.Service, Operation: req.Operation, Conditions: req.Conditions, ErrorsOnly: req.Error, Start: start, End: end, Limit: req.Limit}
		for _, d := range []struct {
			name, text string
			dst        *time.Duration
		}{{"minDuration", req.MinDuration, &q.MinDuration}, {"maxDuration", req.MaxDuration, &q.MaxDuration}} {
			if d.text == "" {
				continue
			}
			if *d.dst, err = time.ParseDuration(d.text); err != nil {
				writeError(w, http.StatusBadRequest, "%s %q is not a duration (e.g. 500ms, 1.5s)", d.name, d.text)
				return
			}
		}
		t, _ := tenant.FromContext(r.Context())
		found, err := o.Traces.Search(r.Context(), t, q)
		if err != nil {
			writeTracesError(w, err)
			return
		}
		out := make([]summaryJSON, len(found))
		for i, s := range found {
			out[i] = toSummaryJSON(s)
		}
		writeData(w, http.StatusOK, out)
	})
}

// queryTraces serves POST /api/v1/traces/query: an Insights pipeline over
// spans.
func (o Options) queryTraces() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query    string   `json:"query"`
			Services []string `json:"services"`
			Start    string   `json:"start"`
			End      string   `json:"end"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		start, end, err := timeRange(req.Start, req.End)
		if err != nil {
			writeTracesError(w, err)
			return
		}
		t, _ := tenant.FromContext(r.Context())
		res, err := o.Traces.Query(r.Context(), t, traces.QueryRequest{Query: req.Query, Services: req.Services, Start: start, End: end})
		if err != nil {
			writeTracesError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, queryResultJSON(res.Result, res.Duration))
	})
}

type latencyJSON struct {
	P50 float64 `json:"p50Ms"`
	P90 float64 `json:"p90Ms"`
	P99 float64 `json:"p99Ms"`
}

func toLatencyJSON(l traces.Latency) latencyJSON {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return latencyJSON{P50: ms(l.P50), P90: ms(l.P90), P99: ms(l.P99)}
}

// serviceMap serves GET /api/v1/traces/servicemap?start=&end=.
func (o Options) serviceMap() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, end, err := timeRange(r.URL.Query().Get("start"), r.URL.Query().Get("end"))
		if err != nil {
			writeTracesError(w, err)
			return
		}
		t, _ := tenant.FromContext(r.Context())
		m, err := o.Traces.ServiceMap(r.Context(), t, start, end)
		if err != nil {
			writeTracesError(w, err)
			return
		}
		type nodeJSON struct {
			Name     string      `json:"name"`
			Type     string      `json:"type"`
			Requests int64       `json:"requests"`
			Errors   int64       `json:"errors"`
			Latency  latencyJSON `json:"latency"`
		}
		type edgeJSON struct {
			Source   string      `json:"source"`
			Target   string      `json:"target"`
			Requests int64       `json:"requests"`
			Errors   int64       `json:"errors"`
			Latency  latencyJSON `json:"latency"`
		}
		out := struct {
			Nodes []nodeJSON `json:"nodes"`
			Edges []edgeJSON `json:"edges"`
		}{Nodes: []nodeJSON{}, Edges: []edgeJSON{}}
		for _, n := range m.Nodes {
			out.Nodes = append(out.Nodes, nodeJSON{n.Name, n.Type, n.Requests, n.Errors, toLatencyJSON(n.Latency)})
		}
		for _, e := range m.Edges {
			out.Edges = append(out.Edges, edgeJSON{e.Source, e.Target, e.Requests, e.Errors, toLatencyJSON(e.Latency)})
		}
		writeData(w, http.StatusOK, out)
	})
}

// listServices serves GET /api/v1/traces/services[?start=&end=].
func (o Options) listServices() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, end, err := timeRange(r.URL.Query().Get("start"), r.URL.Query().Get("end"))
		if err != nil {
			writeTracesError(w, err)
			return
		}
		if r.URL.Query().Get("start") == "" {
			start = time.Unix(0, 0) // every service ever seen
		}
		t, _ := tenant.FromContext(r.Context())
		out, err := o.Traces.Services(r.Context(), t, start, end)
		if err != nil {
			writeTracesError(w, err)
			return
		}
		writeData(w, http.StatusOK, out)
	})
}

// zipkinSpans serves POST /zipkin/api/v2/spans, where Zipkin reporters
// send JSON v2 span lists: 202 when every span is stored; with some bad
// spans the good ones are stored and the answer lists the bad ones (200,
// or 400 when none could be stored).
func (o Options) zipkinSpans() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" && mt != "" {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported Content-Type %q: send Zipkin's JSON v2 (application/json); proto3 is not accepted", r.Header.Get("Content-Type"))
			return
		}
		id, _ := tenant.FromContext(r.Context())
		body, status, err := ingest.ReadBody(r, o.Traces.MaxBodyBytes(id))
		if err != nil {
			writeError(w, status, "%v", err)
			return
		}
		recs, bad, err := zipkin.DecodeJSON(body, time.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		index := make([]int, len(recs)) // Ingest reports positions in recs; the sender counts all its spans
		for i, pos := 0, 0; i < len(recs); pos++ {
			if slices.ContainsFunc(bad, func(b zipkin.SpanError) bool { return b.Index == pos }) {
				continue
			}
			index[i] = pos
			i++
		}
		res, err := o.Traces.Ingest(r.Context(), id, "zipkin", recs)
		if err != nil {
			writeTracesError(w, err)
			return
		}
		out := ingestReplyJSON{Accepted: res.Accepted, Errors: []lineErrorJSON{}}
		for _, b := range bad {
			out.Errors = append(out.Errors, lineErrorJSON{Line: b.Index, Reason: "invalid_span", Error: b.Err})
		}
		for _, rej := range res.Rejected {
			out.Errors = append(out.Errors, lineErrorJSON{Line: index[rej.Index], Reason: rej.Reason, Error: fmt.Sprintf("span %d: %s", index[rej.Index], rej.Error)})
		}
		out.Rejected = len(out.Errors)
		switch {
		case out.Rejected == 0:
			w.WriteHeader(http.StatusAccepted)
		case out.Accepted == 0:
			writeJSON(w, http.StatusBadRequest, out)
		default:
			writeJSON(w, http.StatusOK, out)
		}
	})
}
