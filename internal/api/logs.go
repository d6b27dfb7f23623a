package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/tenant"
)

// maxReportedLineErrors bounds the per-line errors an ingest reply lists;
// "rejected" still counts them all.
const maxReportedLineErrors = 100

type lineErrorJSON struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

type ingestReplyJSON struct {
	Accepted int             `json:"accepted"`
	Rejected int             `json:"rejected"`
	Errors   []lineErrorJSON `json:"errors"`
}

// ingestLogs serves POST /api/v1/logs/ingest?group=G: NDJSON or plain text.
func (o Options) ingestLogs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		group := r.URL.Query().Get("group")
		if group == "" {
			writeError(w, http.StatusBadRequest, "query parameter group is required: POST /api/v1/logs/ingest?group=my-app")
			return
		}
		if err := logs.ValidateGroupName(group); err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		stream := r.URL.Query().Get("stream")
		if stream == "" {
			stream = "default"
		}
		text, err := isTextBody(r.Header.Get("Content-Type"))
		if err != nil {
			writeError(w, http.StatusUnsupportedMediaType, "%v", err)
			return
		}
		body, status, err := ingest.ReadBody(r, o.Logs.MaxBodyBytes(id))
		if err != nil {
			writeError(w, status, "%v", err)
			return
		}
		res, err := o.Logs.IngestNDJSON(r.Context(), id, group, stream, string(body), text)
		if err != nil {
			writeLogsError(w, err)
			return
		}
		reply := ingestReplyJSON{Accepted: res.Accepted, Rejected: len(res.Rejected), Errors: []lineErrorJSON{}}
		for _, rj := range res.Rejected[:min(len(res.Rejected), maxReportedLineErrors)] {
			reply.Errors = append(reply.Errors, lineErrorJSON{Line: rj.Index, Reason: rj.Reason, Error: rj.Error})
		}
		status = http.StatusOK
		if res.Accepted == 0 && len(res.Rejected) > 0 {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, reply)
	})
}

// isTextBody tells plain text (one record per line) from NDJSON.
func isTextBody(contentType string) (bool, error) {
	if contentType == "" {
		return false, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		switch mt {
		case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/json", "application/x-jsonlines":
			return false, nil
		case "text/plain":
			return true, nil
		}
	}
	return false, fmt.Errorf("unsupported Content-Type %q: send application/x-ndjson (one JSON object per line) or text/plain (one record per line)", contentType)
}

// writeLogsError answers with the status an error of the logs service
// calls for.
func writeLogsError(w http.ResponseWriter, err error) {
	var rate *ingest.RateLimitError
	switch {
	case errors.As(err, &rate):
		if d := rate.RetryDelay(); d > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10))
		}
		writeError(w, rate.StatusCode(), "%v", err)
	case errors.Is(err, errInvalidInput), errors.Is(err, logs.ErrInvalidQuery), errors.Is(err, logs.ErrInvalidGroupName), errors.Is(err, logs.ErrInvalidRetention):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, logs.ErrGroupNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, logs.ErrGroupExists):
		writeError(w, http.StatusConflict, "%v", err)
	case errors.Is(err, logs.ErrTooManyGroups):
		writeError(w, http.StatusTooManyRequests, "%v", err)
	case errors.Is(err, eventstore.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "%v: the server is shutting down; retry", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// timeRange reads RFC 3339 start and end; end defaults to now and start to
// an hour before end.
// errInvalidInput marks request parameters the caller must fix (400).
var errInvalidInput = errors.New("invalid input")

func timeRange(start, end string) (time.Time, time.Time, error) {
	e := time.Now()
	if end != "" {
		t, err := time.Parse(time.RFC3339Nano, end)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("%w: end %q is not an RFC 3339 time (2006-01-02T15:04:05Z)", errInvalidInput, end)
		}
		e = t
	}
	s := e.Add(-time.Hour)
	if start != "" {
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("%w: start %q is not an RFC 3339 time (2006-01-02T15:04:05Z)", errInvalidInput, start)
		}
		s = t
	}
	return s, e, nil
}

type statsJSON struct {
	RecordsScanned int64 `json:"recordsScanned"`
	BytesScanned   int64 `json:"bytesScanned"`
	DurationMs     int64 `json:"durationMs"`
}

// queryLogs serves POST /api/v1/logs/query: a Logs Insights query.
func (o Options) queryLogs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string   `json:"query"`
			LogGroups []string `json:"logGroups"`
			Start     string   `json:"start"`
			End       string   `json:"end"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		start, end, err := timeRange(req.Start, req.End)
		if err != nil {
			writeLogsError(w, err)
			return
		}
		id, _ := tenant.FromContext(r.Context())
		res, err := o.Logs.Query(r.Context(), id, logs.QueryRequest{Query: req.Query, Groups: req.LogGroups, Start: start, End: end})
		if err != nil {
			writeLogsError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, queryResultJSON(res.Result, res.Duration))
	})
}

// queryResultJSON is the answer shape of an Insights query, for logs and
// spans alike.
func queryResultJSON(res *query.Result, took time.Duration) map[string]any {
	rows := make([]map[string]any, len(res.Rows))
	for i, row := range res.Rows {
		m := make(map[string]any, len(res.Fields))
		for j, f := range res.Fields {
			if j < len(row) && row[j] != nil {
				m[f] = row[j]
			}
		}
		rows[i] = m
	}
	out := map[string]any{
		"status": statusOf(res.Partial),
		"fields": res.Fields,
		"rows":   rows,
		"stats":  statsJSON{RecordsScanned: res.Stats.RecordsScanned, BytesScanned: res.Stats.BytesScanned, DurationMs: took.Milliseconds()},
	}
	if res.Partial {
		out["partialReason"] = res.PartialReason
	}
	return out
}

func statusOf(partial bool) string {
	if partial {
		return "partial"
	}
	return "complete"
}

// filterLogs serves POST /api/v1/logs/filter: a filter-pattern search.
func (o Options) filterLogs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			FilterPattern string   `json:"filterPattern"`
			LogGroups     []string `json:"logGroups"`
			Start         string   `json:"start"`
			End           string   `json:"end"`
			Limit         int      `json:"limit"`
			NextToken     string   `json:"nextToken"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		start, end, err := timeRange(req.Start, req.End)
		if err != nil {
			writeLogsError(w, err)
			return
		}
		id, _ := tenant.FromContext(r.Context())
		res, err := o.Logs.Filter(r.Context(), id, logs.FilterRequest{
			Pattern: req.FilterPattern, Groups: req.LogGroups, Start: start, End: end, Limit: req.Limit, NextToken: req.NextToken,
		})
		if err != nil {
			writeLogsError(w, err)
			return
		}
		out := map[string]any{
			"status": statusOf(res.Partial),
			"events": res.Events,
			"stats":  statsJSON{RecordsScanned: res.Stats.RecordsScanned, BytesScanned: res.Stats.BytesScanned, DurationMs: res.Duration.Milliseconds()},
		}
		if res.NextToken != "" {
			out["nextToken"] = res.NextToken
		}
		if res.Partial {
			out["partialReason"] = res.PartialReason
		}
		writeJSON(w, http.StatusOK, out)
	})
}

type groupJSON struct {
	Name            string    `json:"name"`
	RetentionInDays *int      `json:"retentionInDays"`
	CreatedAt       time.Time `json:"createdAt"`
	StoredBytes     int64     `json:"storedBytes"`
	Records         int64     `json:"records"`
}

func toGroupJSON(g logs.Group, st logs.GroupStats) groupJSON {
	out := groupJSON{Name: g.Name, CreatedAt: g.CreatedAt.UTC(), StoredBytes: st.StoredBytes, Records: st.Records}
	if g.RetentionDays > 0 {
		days := g.RetentionDays
		out.RetentionInDays = &days
	}
	return out
}

func (o Options) groupJSON(tenantID string, g logs.Group) groupJSON {
	return toGroupJSON(g, o.Logs.Stats(tenantID)[g.Name])
}

func (o Options) listLogGroups() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		gs, err := o.Logs.Groups().List(r.Context(), id, r.URL.Query().Get("prefix"))
		if err != nil {
			writeLogsError(w, err)
			return
		}
		stats := o.Logs.Stats(id)
		out := make([]groupJSON, 0, len(gs))
		for _, g := range gs {
			out = append(out, toGroupJSON(g, stats[g.Name]))
		}
		writeData(w, http.StatusOK, out)
	})
}

type retentionJSON struct {
	RetentionInDays *int `json:"retentionInDays"`
}

func (o Options) createLogGroup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name            string `json:"name"`
			RetentionInDays *int   `json:"retentionInDays"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		id, _ := tenant.FromContext(r.Context())
		g, err := o.Logs.Groups().Create(r.Context(), id, req.Name, deref(req.RetentionInDays))
		if err != nil {
			writeLogsError(w, err)
			return
		}
		writeData(w, http.StatusCreated, o.groupJSON(id, g))
	})
}

func (o Options) getLogGroup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		g, err := o.Logs.Groups().Get(r.Context(), id, r.PathValue("name"))
		if err != nil {
			writeLogsError(w, err)
			return
		}
		writeData(w, http.StatusOK, o.groupJSON(id, g))
	})
}

// putLogGroup sets a group's retention, creating the group if needed.
func (o Options) putLogGroup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req retentionJSON
		if !decodeJSON(w, r, &req) {
			return
		}
		id, _ := tenant.FromContext(r.Context())
		name := r.PathValue("name")
		g, err := o.Logs.Groups().SetRetention(r.Context(), id, name, deref(req.RetentionInDays))
		status := http.StatusOK
		if errors.Is(err, logs.ErrGroupNotFound) {
			g, err = o.Logs.Groups().Create(r.Context(), id, name, deref(req.RetentionInDays))
			status = http.StatusCreated
		}
		if err != nil {
			writeLogsError(w, err)
			return
		}
		writeData(w, status, o.groupJSON(id, g))
	})
}

func (o Options) deleteLogGroup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		name := r.PathValue("name")
		if err := o.Logs.DeleteGroup(r.Context(), id, name); err != nil {
			writeLogsError(w, err)
			return
		}
		if o.MetricFilters != nil { // a group's metric filters go with it, as in CloudWatch
			if err := o.MetricFilters.DeleteGroup(r.Context(), id, name); err != nil {
				writeError(w, http.StatusInternalServerError, "log group %s deleted, its metric filters not: %v", name, err)
				return
			}
		}
		writeData(w, http.StatusOK, map[string]string{"deleted": name})
	})
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// tailHeartbeat keeps idle tail connections (and proxies) alive.
const tailHeartbeat = 15 * time.Second

// tailLogs serves GET /api/v1/logs/tail as server-sent events: one "log"
// event per matching record as it is stored, and a "dropped" event when the
// client fell behind and records were skipped.
func (o Options) tailLogs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flusher, ok := w.(http.Flusher)
		if !ok {
			writeError(w, http.StatusInternalServerError, "streaming is not supported by this connection")
			return
		}
		id, _ := tenant.FromContext(r.Context())
		q := r.URL.Query()
		var groups []string
		for _, g := range q["group"] {
			groups = append(groups, strings.Split(g, ",")...)
		}
		sub, err := o.Logs.Tail(id, groups, q.Get("filterPattern"))
		if err != nil {
			writeLogsError(w, err)
			return
		}
		defer sub.Close()
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, ": tailing\n\n")
		flusher.Flush()
		heartbeat := time.NewTicker(tailHeartbeat)
		defer heartbeat.Stop()
		enc := json.NewEncoder(w)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-heartbeat.C:
				fmt.Fprint(w, ": heartbeat\n\n")
			case rec := <-sub.Records():
				if n := sub.TakeMissed(); n > 0 {
					fmt.Fprintf(w, "event: dropped\ndata: {\"missed\":%d}\n\n", n)
				}
				fmt.Fprint(w, "event: log\ndata: ")
				_ = enc.Encode(logs.EventOf(&rec)) // Encode ends the line
				fmt.Fprint(w, "\n")
				// Drain what is already buffered before flushing.
				for more := len(sub.Records()); more > 0; more-- {
					rec := <-sub.Records()
					fmt.Fprint(w, "event: log\ndata: ")
					_ = enc.Encode(logs.EventOf(&rec))
					fmt.Fprint(w, "\n")
				}
			}
			flusher.Flush()
		}
	})
}
