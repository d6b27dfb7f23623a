package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const tracesUsage = `Usage: mirador traces COMMAND [flags]

Commands:
  get TRACE_ID       print a whole trace as a tree (32 hex digits or an X-Ray id)
  search             find traces, e.g.
                     mirador traces search --service checkout --min-duration 500ms --since 1h
                     mirador traces search --attr 'http.response.status_code>=500' --attr app.tier=gold
  query 'PIPELINE'   run an Insights query over spans, e.g.
                     mirador traces query 'filter duration > 500ms | stats pct(durationMs, 99), count() by service, name'

Flags:
`

// runTraces implements `mirador traces`.
func runTraces(ctx context.Context, args, environ []string, stdout io.Writer) error {
	sub, args, err := subcommand(args, "traces", "get, search or query", tracesUsage, stdout)
	if err != nil {
		return err
	}
	cf := newClientFlags("mirador traces "+sub, tracesUsage, "", environ)
	fs := cf.fs
	service := fs.String("service", "", "search: service (span's service.name); query: limit to this service")
	operation := fs.String("operation", "", "search: span name")
	var attrs stringList
	fs.Var(&attrs, "attr", "search: attribute condition k=v, k!=v, k>n, k>=n, k<n, k<=n or k (present); repeatable")
	minDur := fs.Duration("min-duration", 0, "search: shortest span duration")
	maxDur := fs.Duration("max-duration", 0, "search: longest span duration")
	onlyErrors := fs.Bool("error", false, "search: only spans with status error")
	limit := fs.Int("limit", 20, "search: most traces returned")
	since := fs.Duration("since", time.Hour, "search and query: how far back to look")
	output := fs.String("output", "table", "output format, table or json")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	positional, err := cf.parse(args, stdout)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("--output %q: use table or json", *output)
	}
	c := cf.client()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	end := time.Now().UTC()
	start := end.Add(-*since)

	switch sub {
	case "get":
		if len(positional) != 1 {
			return errors.New("give exactly one trace id, e.g. mirador traces get 4bf92f3577b34da6a3ce929d0e0e4736")
		}
		return c.getTrace(ctx, positional[0], *output, stdout)
	case "search":
		if len(positional) != 0 {
			return fmt.Errorf("search takes no arguments; use --service, --operation, --attr, --min-duration, --error")
		}
		conds, err := parseConditions(attrs)
		if err != nil {
			return err
		}
		req := map[string]any{
			"service": *service, "operation": *operation, "conditions": conds, "error": *onlyErrors, "limit": *limit,
			"start": start.Format(time.RFC3339Nano), "end": end.Format(time.RFC3339Nano),
		}
		if *minDur > 0 {
			req["minDuration"] = minDur.String()
		}
		if *maxDur > 0 {
			req["maxDuration"] = maxDur.String()
		}
		return c.searchTraces(ctx, req, *output, stdout)
	case "query":
		if len(positional) != 1 {
			return errors.New("give exactly one query, e.g. mirador traces query 'stats count() by service'")
		}
		req := map[string]any{"query": positional[0], "start": start.Format(time.RFC3339Nano), "end": end.Format(time.RFC3339Nano)}
		if *service != "" {
			req["services"] = []string{*service}
		}
		return c.insights(ctx, "/api/v1/traces/query", req, *output, stdout)
	}
	return fmt.Errorf("unknown traces command %q: use get, search or query", sub)
}

type conditionJSON struct {
	Key   string `json:"key"`
	Op    string `json:"op"`
	Value string `json:"value,omitempty"`
}

// parseConditions reads --attr expressions.
func parseConditions(exprs []string) ([]conditionJSON, error) {
	out := []conditionJSON{}
	for _, e := range exprs {
		c := conditionJSON{Key: strings.TrimSpace(e), Op: "exists"}
		for _, op := range []string{"!=", ">=", "<=", "=", ">", "<"} {
			if i := strings.Index(e, op); i >= 0 {
				c = conditionJSON{Key: strings.TrimSpace(e[:i]), Op: op, Value: strings.TrimSpace(e[i+len(op):])}
				break
			}
		}
		if c.Key == "" {
			return nil, fmt.Errorf("--attr %q: name the attribute, e.g. --attr http.response.status_code>=500", e)
		}
		out = append(out, c)
	}
	return out, nil
}

type summaryOut struct {
	TraceID       string    `json:"traceId"`
	RootService   string    `json:"rootService"`
	RootOperation string    `json:"rootOperation"`
	StartTime     time.Time `json:"startTime"`
	DurationNanos int64     `json:"durationNanos"`
	SpanCount     int       `json:"spanCount"`
	ErrorCount    int       `json:"errorCount"`
	Services      []string  `json:"services"`
}

func (c *apiClient) searchTraces(ctx context.Context, req map[string]any, output string, stdout io.Writer) error {
	var res struct {
		Data json.RawMessage `json:"data"`
	}
	if err := c.do(ctx, "POST", "/api/v1/traces/search", req, &res); err != nil {
		return err
	}
	if output == "json" {
		return writeIndented(stdout, res.Data)
	}
	var found []summaryOut
	if err := json.Unmarshal(res.Data, &found); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRACE ID\tSTART\tDURATION\tROOT\tSPANS\tERRORS\tSERVICES")
	for _, s := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s: %s\t%d\t%d\t%s\n", s.TraceID, s.StartTime.Local().Format("2006-01-02 15:04:05.000"),
			time.Duration(s.DurationNanos), s.RootService, s.RootOperation, s.SpanCount, s.ErrorCount, strings.Join(s.Services, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d traces\n", len(found))
	return nil
}

func (c *apiClient) getTrace(ctx context.Context, id, output string, stdout io.Writer) error {
	var res struct {
		Data json.RawMessage `json:"data"`
	}
	if err := c.do(ctx, "GET", "/api/v1/traces/"+url.PathEscape(id), nil, &res); err != nil {
		return err
	}
	if output == "json" {
		return writeIndented(stdout, res.Data)
	}
	var tr struct {
		summaryOut
		Spans []struct {
			SpanID        string `json:"spanId"`
			ParentSpanID  string `json:"parentSpanId"`
			Service       string `json:"service"`
			Name          string `json:"name"`
			Kind          string `json:"kind"`
			StartTime     time.Time
			DurationNanos int64 `json:"durationNanos"`
			Status        struct{ Code, Message string }
		} `json:"spans"`
	}
	if err := json.Unmarshal(res.Data, &tr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trace %s: %d spans, %d errors, %s, services %s\n\n", tr.TraceID, tr.SpanCount, tr.ErrorCount,
		time.Duration(tr.DurationNanos), strings.Join(tr.Services, ", "))
	children := map[string][]int{}
	known := map[string]bool{}
	for _, sp := range tr.Spans {
		known[sp.SpanID] = true
	}
	var roots []int
	for i, sp := range tr.Spans {
		if sp.ParentSpanID == "" || !known[sp.ParentSpanID] {
			roots = append(roots, i)
		} else {
			children[sp.ParentSpanID] = append(children[sp.ParentSpanID], i)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SPAN\tSERVICE\tKIND\tOFFSET\tDURATION\tSTATUS")
	var walk func(i, depth int)
	walk = func(i, depth int) {
		sp := tr.Spans[i]
		status := sp.Status.Code
		if sp.Status.Message != "" {
			status += ": " + sp.Status.Message
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t+%s\t%s\t%s\n", strings.Repeat("  ", depth), sp.Name, sp.Service, sp.Kind,
			sp.StartTime.Sub(tr.StartTime), time.Duration(sp.DurationNanos), status)
		for _, j := range children[sp.SpanID] {
			walk(j, depth+1)
		}
	}
	for _, i := range roots {
		walk(i, 0)
	}
	return tw.Flush()
}

// writeIndented prints a JSON answer indented, for --output json.
func writeIndented(w io.Writer, raw json.RawMessage) error {
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
