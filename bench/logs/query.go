package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The queries of phase 4, as a user types them into Logs Insights.
const (
	needleQuery = `filter @message like /\b` + Needle + `\b/ | fields @timestamp, @message`
	statsQuery  = `stats count() by bin(1m), level`
)

// insightsClient runs Logs Insights queries through POST /api/v1/logs/query
// and times them from sending the request to reading the last byte.
type insightsClient struct {
	client     *http.Client
	groups     []string
	start, end time.Time
}

// queryResponse is the answer of POST /api/v1/logs/query.
type queryResponse struct {
	Status        string           `json:"status"`
	Fields        []string         `json:"fields"`
	Rows          []map[string]any `json:"rows"`
	PartialReason string           `json:"partialReason"`
	Stats         struct {
		RecordsScanned int64 `json:"recordsScanned"`
		BytesScanned   int64 `json:"bytesScanned"`
		DurationMs     int64 `json:"durationMs"`
	} `json:"stats"`
}

// decodeQueryResponse parses a query answer; numbers stay json.Number so
// that counts are exact.
func decodeQueryResponse(body []byte) (queryResponse, error) {
	var r queryResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return r, err
	}
	if r.Status != "complete" && r.Status != "partial" {
		return r, fmt.Errorf(`status %q, want "complete" or "partial"`, r.Status)
	}
	return r, nil
}

// run runs q and returns the answer and its latency. Any status but 200
// is an error quoting the request and the response.
func (c *insightsClient) run(ctx context.Context, baseURL, q string) (queryResponse, time.Duration, error) {
	reqBody, err := json.Marshal(map[string]any{
		"query":     q,
		"logGroups": c.groups,
		"start":     c.start.UTC().Format(time.RFC3339Nano),
		"end":       c.end.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return queryResponse{}, 0, err
	}
	describe := func() string { return fmt.Sprintf("POST %s/api/v1/logs/query %s", baseURL, reqBody) }
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/api/v1/logs/query", bytes.NewReader(reqBody))
	if err != nil {
		return queryResponse{}, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return queryResponse{}, 0, fmt.Errorf("%s: %w", describe(), err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return queryResponse{}, took, fmt.Errorf("%s: read the response: %w", describe(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return queryResponse{}, took, fmt.Errorf("%s: %s: %s", describe(), resp.Status, quote(body))
	}
	r, err := decodeQueryResponse(body)
	if err != nil {
		return r, took, fmt.Errorf("%s: %s with a body that is not a query answer (%v): %s", describe(), resp.Status, err, quote(body))
	}
	return r, took, nil
}

// checkResult says whether a query returned exactly what was ingested.
type checkResult struct {
	OK       bool     `json:"ok"`
	Summary  string   `json:"summary"`
	Problems []string `json:"problems,omitempty"` // the first few
}

const keptProblems = 10

func (c *checkResult) problem(format string, a ...any) {
	if len(c.Problems) < keptProblems {
		c.Problems = append(c.Problems, fmt.Sprintf(format, a...))
	}
}

// needleRecord is a planted record as the needle query must return it.
type needleRecord struct {
	Index   int64
	TimeMs  int64
	Message string
}

// checkNeedles checks that r holds exactly the planted records: each once,
// with its timestamp and message, and nothing else.
func checkNeedles(r queryResponse, want []needleRecord) checkResult {
	var c checkResult
	if r.Status != "complete" {
		c.problem("status %q: %s", r.Status, r.PartialReason)
	}
	type key struct {
		ms  int64
		msg string
	}
	pending := map[key][]int64{}
	for _, n := range want {
		k := key{n.TimeMs, n.Message}
		pending[k] = append(pending[k], n.Index)
	}
	matched := 0
	for i, row := range r.Rows {
		msg, _ := row["@message"].(string)
		ts, err := resultTime(row["@timestamp"])
		if err != nil {
			c.problem("row %d: @timestamp: %v", i, err)
			continue
		}
		k := key{ts.UnixMilli(), msg}
		if idx := pending[k]; len(idx) > 0 {
			pending[k] = idx[1:]
			matched++
			continue
		}
		c.problem("row %d is no planted record: @timestamp %v, @message %.200q", i, row["@timestamp"], msg)
	}
	var missing []int64
	for _, idx := range pending {
		missing = append(missing, idx...)
	}
	slices.Sort(missing)
	for _, i := range missing {
		for _, n := range want {
			if n.Index == i {
				c.problem("planted record #%d is missing: @timestamp %s, @message %.200q", i, time.UnixMilli(n.TimeMs).UTC().Format(time.RFC3339Nano), n.Message)
				break
			}
		}
	}
	c.OK = matched == len(want) && len(r.Rows) == len(want) && r.Status == "complete"
	c.Summary = fmt.Sprintf("%d rows, %d of %d planted records", len(r.Rows), matched, len(want))
	return c
}

// checkStats checks that r holds exactly the expected count of every
// (minute, level), and so sums to the records ingested.
func checkStats(r queryResponse, want map[statsCell]int64) checkResult {
	var c checkResult
	if r.Status != "complete" {
		c.problem("status %q: %s", r.Status, r.PartialReason)
	}
	binField, countField := "", ""
	for _, f := range r.Fields {
		switch {
		case strings.HasPrefix(f, "bin("):
			binField = f
		case strings.HasPrefix(f, "count("):
			countField = f
		}
	}
	if binField == "" || countField == "" || !slices.Contains(r.Fields, "level") {
		c.problem("fields %q lack a bin(…), level or count(…) column", r.Fields)
		c.Summary = "no stats columns"
		return c
	}
	var wantTotal, gotTotal int64
	for _, n := range want {
		wantTotal += n
	}
	got := map[statsCell]int64{}
	for i, row := range r.Rows {
		ts, err := resultTime(row[binField])
		if err != nil {
			c.problem("row %d: %s: %v", i, binField, err)
			continue
		}
		level, _ := row["level"].(string)
		n, err := resultInt(row[countField])
		if err != nil {
			c.problem("row %d: %s: %v", i, countField, err)
			continue
		}
		cell := statsCell{Minute: ts.Unix() / 60, Level: level}
		if ts.Unix()%60 != 0 {
			c.problem("row %d: bin %v does not start a minute", i, row[binField])
		}
		if _, dup := got[cell]; dup {
			c.problem("row %d repeats bin %v, level %q", i, row[binField], level)
		}
		got[cell] += n
		gotTotal += n
	}
	wrong := 0
	for _, cell := range sortedCells(want, got) {
		if w, g := want[cell], got[cell]; w != g {
			wrong++
			c.problem("bin %s, level %q: count %d, want %d", time.Unix(cell.Minute*60, 0).UTC().Format("2006-01-02 15:04"), cell.Level, g, w)
		}
	}
	c.OK = wrong == 0 && len(c.Problems) == 0 && gotTotal == wantTotal
	c.Summary = fmt.Sprintf("%d rows summing to %d of %d records; %d of %d (minute, level) counts wrong", len(r.Rows), gotTotal, wantTotal, wrong, len(want))
	return c
}

func sortedCells(a, b map[statsCell]int64) []statsCell {
	var out []statsCell
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(x, y statsCell) int {
		if x.Minute != y.Minute {
			return int(x.Minute - y.Minute)
		}
		return strings.Compare(x.Level, y.Level)
	})
	return out
}

// resultTime reads a timestamp of a result row: "2006-01-02 15:04:05.000"
// in UTC as Logs Insights prints them, RFC 3339, or epoch milliseconds.
func resultTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a time", x)
	case json.Number:
		ms, err := x.Int64()
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is not epoch milliseconds", x)
		}
		return time.UnixMilli(ms), nil
	case nil:
		return time.Time{}, errors.New("missing")
	}
	return time.Time{}, fmt.Errorf("%v (%T) is not a time", v, v)
}

// resultInt reads a count of a result row.
func resultInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Int64()
	case string:
		return strconv.ParseInt(x, 10, 64)
	case nil:
		return 0, errors.New("missing")
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
}
