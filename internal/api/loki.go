package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/logs/loki"
	"github.com/miradorhq/mirador/internal/query/logql"
	"github.com/miradorhq/mirador/internal/tenant"
)

// LokiPrefix is where Loki's API is mounted: a Grafana Loki data source or
// a shipper's URL is http://host:7070 (the paths carry /loki/api/v1).
const LokiPrefix = "/loki/api/v1"

// lokiPush serves POST /loki/api/v1/push: Loki's push API, protobuf
// (snappy) or JSON (optionally gzip). 204 when every entry is stored; when
// some are refused, the rest are stored and the answer is a 400 saying
// which, as Loki does.
func (o Options) lokiPush() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		limit := o.Logs.MaxBodyBytes(id)
		body, status, err := ingest.ReadBody(r, limit)
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		streams, err := loki.Decode(body, r.Header.Get("Content-Type"), limit)
		switch {
		case errors.Is(err, loki.ErrTooLarge):
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := o.Logs.IngestLoki(r.Context(), id, streams)
		if err != nil {
			writeLogsError(w, err)
			return
		}
		if len(res.Rejected) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d of %d entries refused, the rest stored:", len(res.Rejected), res.Accepted+len(res.Rejected))
		for _, rj := range res.Rejected[:min(len(res.Rejected), maxReportedLineErrors)] {
			fmt.Fprintf(&b, "\nentry %d: %s", rj.Index, rj.Error)
		}
		http.Error(w, b.String(), http.StatusBadRequest)
	})
}

// lokiTime reads a Loki time parameter: Unix nanoseconds, Unix seconds
// (with a fraction), or RFC 3339.
func lokiTime(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > 1e14 { // nanoseconds
			return time.Unix(0, n), nil
		}
		return time.Unix(n, 0), nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: give Unix nanoseconds, Unix seconds or RFC 3339", v)
}

// lokiQueryRange serves /loki/api/v1/query_range for log queries (a
// stream selector and a pipeline): Loki's streams result.
func (o Options) lokiQueryRange() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := r.Form
		expr, err := logql.Parse(q.Get("query"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		end, err := lokiTime(q.Get("end"), time.Now())
		if err != nil {
			http.Error(w, "end: "+err.Error(), http.StatusBadRequest)
			return
		}
		since := time.Hour
		if v := q.Get("since"); v != "" {
			if since, err = logql.ParseDuration(v); err != nil {
				http.Error(w, "since: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		start, err := lokiTime(q.Get("start"), end.Add(-since))
		if err != nil {
			http.Error(w, "start: "+err.Error(), http.StatusBadRequest)
			return
		}
		lq, isLog := expr.(*logql.LogQuery)
		if !isLog {
			step, err := lokiStep(q.Get("step"), start, end)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			o.lokiMetric(w, r, expr, start, end, step, "matrix", began)
			return
		}
		limit := 100
		if v := q.Get("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
				http.Error(w, fmt.Sprintf("limit %q: want 1 to 10000", v), http.StatusBadRequest)
				return
			}
		}
		forward := false
		switch d := strings.ToLower(q.Get("direction")); d {
		case "", "backward":
		case "forward":
			forward = true
		default:
			http.Error(w, fmt.Sprintf("direction %q: want forward or backward", d), http.StatusBadRequest)
			return
		}
		id, _ := tenant.FromContext(r.Context())
		res, err := o.Logs.QueryLoki(r.Context(), id, logs.LokiLogRequest{Query: lq, Start: start, End: end.Add(time.Nanosecond), Limit: limit, Forward: forward})
		if err != nil {
			if errors.Is(err, logs.ErrInvalidQuery) || errors.Is(err, logs.ErrUnsupportedLogQL) {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			writeLogsError(w, err)
			return
		}
		streams := make([]map[string]any, len(res.Streams))
		lines := 0
		for i, st := range res.Streams {
			values := make([][2]string, len(st.Lines))
			for j, l := range st.Lines {
				values[j] = [2]string{strconv.FormatInt(l.Time, 10), l.Line}
			}
			lines += len(values)
			streams[i] = map[string]any{"stream": st.Labels, "values": values}
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{
			"resultType": "streams", "result": streams,
			"stats": map[string]any{"summary": map[string]any{
				"execTime": time.Since(began).Seconds(), "totalBytesProcessed": res.Stats.BytesScanned,
				"totalLinesProcessed": res.Stats.RecordsScanned, "totalEntriesReturned": lines,
			}},
		}})
	})
}

// lokiStep reads step (a duration or seconds); without one, Loki's
// default: the range over 250 points, at least a second.
func lokiStep(v string, start, end time.Time) (time.Duration, error) {
	if v == "" {
		return max(end.Sub(start)/250, time.Second).Truncate(time.Second), nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := logql.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("step %q: give a positive duration (15s) or a number of seconds", v)
	}
	return d, nil
}

// lokiMetric answers a metric query as a matrix (query_range) or a vector
// (query).
func (o Options) lokiMetric(w http.ResponseWriter, r *http.Request, expr logql.Expr, start, end time.Time, step time.Duration, resultType string, began time.Time) {
	id, _ := tenant.FromContext(r.Context())
	res, err := o.Logs.QueryLokiMetric(r.Context(), id, logs.LokiMetricRequest{Expr: expr, Start: start, End: end, Step: step})
	if err != nil {
		if errors.Is(err, logs.ErrInvalidQuery) || errors.Is(err, logs.ErrUnsupportedLogQL) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeLogsError(w, err)
		return
	}
	seriesList := res.Series
	if res.Scalar != nil {
		seriesList = []logs.LokiSeries{{Labels: map[string]string{}, Values: res.Scalar}}
	}
	sample := func(i int, v float64) [2]any {
		t := start.Add(time.Duration(i) * step)
		return [2]any{float64(t.UnixMilli()) / 1000, strconv.FormatFloat(v, 'f', -1, 64)}
	}
	result := []map[string]any{}
	for _, sr := range seriesList {
		if resultType == "vector" {
			if v := sr.Values[0]; !math.IsNaN(v) {
				result = append(result, map[string]any{"metric": sr.Labels, "value": sample(0, v)})
			}
			continue
		}
		var values [][2]any
		for i, v := range sr.Values {
			if !math.IsNaN(v) {
				values = append(values, sample(i, v))
			}
		}
		if len(values) > 0 {
			result = append(result, map[string]any{"metric": sr.Labels, "values": values})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{
		"resultType": resultType, "result": result,
		"stats": map[string]any{"summary": map[string]any{
			"execTime": time.Since(began).Seconds(), "totalBytesProcessed": res.Stats.BytesScanned, "totalLinesProcessed": res.Stats.RecordsScanned,
		}},
	}})
}

// lokiQuery serves /loki/api/v1/query: a metric query at one time (a
// vector). Log queries need query_range, as in Loki 3.
func (o Options) lokiQuery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		expr, err := logql.Parse(r.Form.Get("query"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, isLog := expr.(*logql.LogQuery); isLog {
			http.Error(w, "log queries are not supported as an instant query type: use /loki/api/v1/query_range", http.StatusBadRequest)
			return
		}
		at, err := lokiTime(r.Form.Get("time"), time.Now())
		if err != nil {
			http.Error(w, "time: "+err.Error(), http.StatusBadRequest)
			return
		}
		o.lokiMetric(w, r, expr, at, at, time.Second, "vector", began)
	})
}
