package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// promClient calls the Prometheus-compatible HTTP API and times the calls
// from sending the request to reading the last byte of the response.
type promClient struct {
	base   string // http://host:port/prometheus/api/v1
	client *http.Client
	buf    bytes.Buffer
}

// apiResponse is Prometheus's response envelope.
type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// queryData is the data of a query or range query response.
type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
	Stats      *struct {
		Samples struct {
			TotalQueryableSamples int64 `json:"totalQueryableSamples"`
			PeakSamples           int64 `json:"peakSamples"`
		} `json:"samples"`
	} `json:"stats"`
}

// get calls path with params and returns the response's data and how long
// the call took, decoding excluded.
func (c *promClient) get(ctx context.Context, path string, params url.Values) (json.RawMessage, time.Duration, error) {
	var r apiResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+params.Encode(), nil)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	c.buf.Reset()
	_, err = c.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return nil, took, fmt.Errorf("read %s response: %w", path, err)
	}
	if err := json.Unmarshal(c.buf.Bytes(), &r); err != nil {
		return nil, took, fmt.Errorf("%s answered %s with a body that is not Prometheus's JSON envelope: %.200s", path, resp.Status, c.buf.Bytes())
	}
	if r.Status != "success" {
		return nil, took, fmt.Errorf("%s answered %s: %s: %s", path, resp.Status, r.ErrorType, r.Error)
	}
	return r.Data, took, nil
}

// query calls a query endpoint and decodes its data.
func (c *promClient) query(ctx context.Context, path string, params url.Values) (queryData, time.Duration, error) {
	var d queryData
	raw, took, err := c.get(ctx, path, params)
	if err != nil {
		return d, took, err
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, took, fmt.Errorf("decode %s data: %w", path, err)
	}
	return d, took, nil
}

// matrix is a range query's result: one entry per series.
type matrix []struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// rangeQuery runs a range query; with stats it asks for the engine's
// sample counts too.
func (c *promClient) rangeQuery(ctx context.Context, q string, start, end time.Time, step time.Duration, stats bool) (queryData, matrix, time.Duration, error) {
	p := url.Values{
		"query": {q},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	if stats {
		p.Set("stats", "all")
	}
	r, took, err := c.query(ctx, "/query_range", p)
	if err != nil {
		return r, nil, took, err
	}
	var m matrix
	if err := json.Unmarshal(r.Result, &m); err != nil {
		return r, nil, took, fmt.Errorf("decode range query result: %w", err)
	}
	return r, m, took, nil
}

// instantScalar evaluates q at t and returns the value of its only series.
func (c *promClient) instantScalar(ctx context.Context, q string, t time.Time) (float64, error) {
	r, _, err := c.query(ctx, "/query", url.Values{"query": {q}, "time": {formatTime(t)}})
	if err != nil {
		return 0, err
	}
	var v []struct {
		Value [2]any `json:"value"`
	}
	if err := json.Unmarshal(r.Result, &v); err != nil || len(v) != 1 {
		return 0, fmt.Errorf("%s: want one series, got %.200s", q, r.Result)
	}
	s, _ := v[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// countSeries returns how many series the selectors of query match
// between start and end, through the series API.
func (c *promClient) countSeries(ctx context.Context, query string, start, end time.Time) (int, error) {
	sels, err := selectors(query)
	if err != nil {
		return 0, err
	}
	p := url.Values{"match[]": sels, "start": {formatTime(start)}, "end": {formatTime(end)}}
	raw, _, err := c.get(ctx, "/series", p)
	if err != nil {
		return 0, err
	}
	var series []json.RawMessage
	if err := json.Unmarshal(raw, &series); err != nil {
		return 0, fmt.Errorf("decode series list: %w", err)
	}
	return len(series), nil
}

// selectors returns the series selectors of a PromQL expression.
func selectors(query string) ([]string, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("parse --query %q: %w", query, err)
	}
	var out []string
	for _, ms := range parser.ExtractSelectors(expr) {
		parts := make([]string, len(ms))
		for i, m := range ms {
			parts[i] = m.String()
		}
		out = append(out, "{"+strings.Join(parts, ",")+"}")
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--query %q selects no series", query)
	}
	return out, nil
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// queryResult is phase 3's outcome.
type queryResult struct {
	Query             string                   `json:"query"`
	Start             time.Time                `json:"start"`
	End               time.Time                `json:"end"`
	StepSeconds       float64                  `json:"step_seconds"`
	Warmup            int                      `json:"warmup_runs"`
	Runs              int                      `json:"runs"`
	SeriesTouched     int                      `json:"series_touched"`
	ResultSeries      int                      `json:"result_series"`
	PointsPerSeries   int                      `json:"points_per_series"`
	QueryableSamples  int64                    `json:"total_queryable_samples"`
	PeakSamples       int64                    `json:"peak_samples"`
	Latency           benchproc.LatencySummary `json:"latency"`
	ServerCPUPerQuery float64                  `json:"server_cpu_seconds_per_query"`
	ServerMemoryAfter benchproc.Memory         `json:"server_memory_after"`
}

// runQueries is phase 3: warm-up runs, then runs sequential timed runs of
// q over [start, end] at step.
func runQueries(ctx context.Context, c *promClient, srv *benchproc.Server, q string, start, end time.Time, step time.Duration, warmup, runs int) (queryResult, error) {
	res := queryResult{Query: q, Start: start, End: end, StepSeconds: step.Seconds(), Warmup: warmup, Runs: runs}
	var err error
	if res.SeriesTouched, err = c.countSeries(ctx, q, start.Add(-5*time.Minute), end); err != nil {
		return res, fmt.Errorf("count the query's series: %w", err)
	}
	for range warmup {
		if _, _, _, err := c.rangeQuery(ctx, q, start, end, step, false); err != nil {
			return res, fmt.Errorf("warm-up query: %w", err)
		}
	}
	cpu0, err := srv.CPU()
	if err != nil {
		return res, err
	}
	lat := make([]time.Duration, 0, runs)
	for range runs {
		_, m, took, err := c.rangeQuery(ctx, q, start, end, step, false)
		if err != nil {
			return res, err
		}
		lat = append(lat, took)
		res.ResultSeries = len(m)
		if len(m) > 0 {
			res.PointsPerSeries = len(m[0].Values)
		}
	}
	cpu1, err := srv.CPU()
	if err != nil {
		return res, err
	}
	res.Latency = benchproc.Summarize(lat)
	if runs > 0 {
		res.ServerCPUPerQuery = (cpu1 - cpu0).Seconds() / float64(runs)
	}
	// The engine's sample counts, from one more run outside the timing.
	r, _, _, err := c.rangeQuery(ctx, q, start, end, step, true)
	if err != nil {
		return res, err
	}
	if r.Stats != nil {
		res.QueryableSamples = r.Stats.Samples.TotalQueryableSamples
		res.PeakSamples = r.Stats.Samples.PeakSamples
	}
	if res.ServerMemoryAfter, err = srv.Memory(); err != nil {
		return res, err
	}
	return res, nil
}
