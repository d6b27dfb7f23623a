package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const logsUsage = `Usage: mirador logs COMMAND [flags]

Commands:
  query 'PIPELINE'   run a Logs Insights query, e.g.
                     mirador logs query 'fields @timestamp, @message | filter level = "ERROR"' --group api --since 1h
  tail               follow records as they arrive: mirador logs tail --group api [--filter 'ERROR']
  groups             list log groups

Flags:
`

// runLogs implements `mirador logs`. environ supplies MIRADOR_URL,
// MIRADOR_API_KEY and MIRADOR_TENANT defaults.
func runLogs(ctx context.Context, args, environ []string, stdout io.Writer) error {
	sub, args, err := subcommand(args, "logs", "query, tail or groups", logsUsage, stdout)
	if err != nil {
		return err
	}
	cf := newClientFlags("mirador logs "+sub, logsUsage, "", environ)
	fs := cf.fs
	var groups stringList
	fs.Var(&groups, "group", "log group; repeat or comma-separate for several (default: all)")
	since := fs.Duration("since", time.Hour, "query: how far back to look")
	output := fs.String("output", "table", "query and groups: output format, table or json")
	filter := fs.String("filter", "", "tail: CloudWatch filter pattern")
	prefix := fs.String("prefix", "", "groups: only names starting with this")
	timeout := fs.Duration("timeout", 2*time.Minute, "query and groups: give up after this long")

	positional, err := cf.parse(args, stdout)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("--output %q: use table or json", *output)
	}
	c := cf.client()
	var gs []string
	for _, g := range groups {
		gs = append(gs, strings.Split(g, ",")...)
	}

	switch sub {
	case "query":
		if len(positional) != 1 {
			return errors.New("give exactly one query, e.g. mirador logs query 'fields @timestamp, @message | limit 20' --group api")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return c.query(ctx, positional[0], gs, *since, *output, stdout)
	case "tail":
		if len(positional) != 0 {
			return fmt.Errorf("tail takes no arguments; pass the pattern with --filter")
		}
		return c.tail(ctx, gs, *filter, stdout)
	case "groups":
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return c.groups(ctx, *prefix, *output, stdout)
	}
	return fmt.Errorf("unknown logs command %q: use query, tail or groups", sub)
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// do sends a request and decodes a 2xx JSON reply into out; an error reply
// becomes an error carrying the server's message.
func (c *apiClient) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("--url %q: %w", c.base, err)
	}
	req.Header = c.header.Clone()
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return responseError(resp)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func responseError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var e struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return fmt.Errorf("%s: %s", e.ErrorType, e.Error)
	}
	return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
}

func (c *apiClient) query(ctx context.Context, q string, groups []string, since time.Duration, output string, stdout io.Writer) error {
	end := time.Now().UTC()
	req := map[string]any{"query": q, "logGroups": groups, "start": end.Add(-since).Format(time.RFC3339Nano), "end": end.Format(time.RFC3339Nano)}
	return c.insights(ctx, "/api/v1/logs/query", req, output, stdout)
}

// insights runs an Insights query request at path and prints the result
// as a table or as the server's JSON.
func (c *apiClient) insights(ctx context.Context, path string, req map[string]any, output string, stdout io.Writer) error {
	var res struct {
		Status        string           `json:"status"`
		PartialReason string           `json:"partialReason"`
		Fields        []string         `json:"fields"`
		Rows          []map[string]any `json:"rows"`
		Stats         struct {
			RecordsScanned int64 `json:"recordsScanned"`
			BytesScanned   int64 `json:"bytesScanned"`
			DurationMs     int64 `json:"durationMs"`
		} `json:"stats"`
	}
	if output == "json" {
		var raw json.RawMessage
		if err := c.do(ctx, "POST", path, req, &raw); err != nil {
			return err
		}
		return writeIndented(stdout, raw)
	}
	if err := c.do(ctx, "POST", path, req, &res); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(res.Fields, "\t"))
	for _, row := range res.Rows {
		cells := make([]string, len(res.Fields))
		for i, f := range res.Fields {
			if v, ok := row[f]; ok && v != nil {
				cells[i] = strings.ReplaceAll(fmt.Sprint(v), "\n", " ")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d rows; %d records (%d bytes) scanned in %d ms\n", len(res.Rows), res.Stats.RecordsScanned, res.Stats.BytesScanned, res.Stats.DurationMs)
	if res.Status == "partial" {
		fmt.Fprintf(stdout, "partial result: %s\n", res.PartialReason)
	}
	return nil
}

func (c *apiClient) groups(ctx context.Context, prefix, output string, stdout io.Writer) error {
	var res struct {
		Data []struct {
			Name            string    `json:"name"`
			RetentionInDays *int      `json:"retentionInDays"`
			CreatedAt       time.Time `json:"createdAt"`
			StoredBytes     int64     `json:"storedBytes"`
			Records         int64     `json:"records"`
		} `json:"data"`
	}
	if err := c.do(ctx, "GET", "/api/v1/logs/groups?prefix="+url.QueryEscape(prefix), nil, &res); err != nil {
		return err
	}
	if output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res.Data)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRETENTION\tRECORDS\tSTORED BYTES\tCREATED")
	for _, g := range res.Data {
		retention := "never expire"
		if g.RetentionInDays != nil {
			retention = fmt.Sprintf("%d days", *g.RetentionInDays)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", g.Name, retention, g.Records, g.StoredBytes, g.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

// tail prints records as the server streams them, until ctx ends.
func (c *apiClient) tail(ctx context.Context, groups []string, filter string, stdout io.Writer) error {
	q := url.Values{}
	for _, g := range groups {
		q.Add("group", g)
	}
	if filter != "" {
		q.Set("filterPattern", filter)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/logs/tail?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("--url %q: %w", c.base, err)
	}
	req.Header = c.header.Clone()
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return responseError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			switch event {
			case "log":
				var e struct {
					Timestamp int64  `json:"timestamp"`
					Group     string `json:"group"`
					Stream    string `json:"stream"`
					Message   string `json:"message"`
				}
				if json.Unmarshal([]byte(data), &e) == nil {
					fmt.Fprintf(stdout, "%s %s/%s %s\n", time.UnixMilli(e.Timestamp).UTC().Format("2006-01-02T15:04:05.000Z"), e.Group, e.Stream, e.Message)
				}
			case "dropped":
				fmt.Fprintf(stdout, "(fell behind; the server skipped records: %s)\n", data)
			}
		case line == "":
			event = ""
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
