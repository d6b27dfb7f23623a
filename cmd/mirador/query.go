package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

const queryUsage = `Usage: mirador query [flags] EXPR

Evaluates a PromQL expression on a Mirador server and prints the result.
Instant by default; --range makes it a range query ending now (or at --time).

Flags:
`

// runQuery implements `mirador query`. environ supplies MIRADOR_URL,
// MIRADOR_API_KEY and MIRADOR_TENANT defaults.
func runQuery(ctx context.Context, args, environ []string, stdout io.Writer) error {
	cf := newClientFlags("mirador query", queryUsage, " with the read scope", environ)
	fs := cf.fs
	serverURL, key, tenantID := cf.url, cf.key, cf.tenant
	at := fs.String("time", "", "evaluation time (RFC 3339 or Unix seconds); default now")
	rng := fs.Duration("range", 0, "make a range query over this duration, e.g. 1h")
	step := fs.Duration("step", 0, "range query resolution; default range/250, at least 1s")
	output := fs.String("output", "table", "output format: table or json")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")

	exprs, err := cf.parse(args, stdout)
	if err != nil {
		return err
	}
	if len(exprs) != 1 {
		return fmt.Errorf("give exactly one PromQL expression, e.g. mirador query 'up'")
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("--output %q: use table or json", *output)
	}
	ts := time.Now()
	if *at != "" {
		t, err := parseTime(*at)
		if err != nil {
			return fmt.Errorf("--time %q: %w", *at, err)
		}
		ts = t
	}

	client, err := api.NewClient(api.Config{Address: *serverURL, RoundTripper: credentials{key: *key, tenant: *tenantID, next: api.DefaultRoundTripper}})
	if err != nil {
		return fmt.Errorf("--url %q: %w", *serverURL, err)
	}
	// The Prometheus API lives under /prometheus on Mirador.
	promAPI := promv1.NewAPI(prefixed{client, "/prometheus"})
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var result model.Value
	var warnings promv1.Warnings
	var infos promv1.Infos
	if *rng > 0 {
		s := *step
		if s <= 0 {
			s = max(*rng/250, time.Second)
		}
		result, warnings, infos, err = promAPI.QueryRange(ctx, exprs[0], promv1.Range{Start: ts.Add(-*rng), End: ts, Step: s})
	} else {
		result, warnings, infos, err = promAPI.Query(ctx, exprs[0], ts)
	}
	if err != nil {
		var apiErr *promv1.Error
		if errors.As(err, &apiErr) {
			return fmt.Errorf("%s", apiErrorMessage(apiErr))
		}
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(stdout, "warning:", w)
	}
	for _, i := range infos {
		fmt.Fprintln(stdout, "info:", i)
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"resultType": result.Type().String(), "result": result})
	}
	return printTable(stdout, result)
}

// apiErrorMessage prefers the server's own message: for statuses such as
// 401 and 403 the Prometheus client keeps it only in Detail.
func apiErrorMessage(e *promv1.Error) string {
	var body struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if e.Detail != "" && json.Unmarshal([]byte(e.Detail), &body) == nil && body.Error != "" {
		return body.ErrorType + ": " + body.Error
	}
	return fmt.Sprintf("%s: %s", e.Type, e.Msg)
}

func withDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("use RFC 3339 (2026-11-22T10:00:00Z) or Unix seconds")
	}
	return t, nil
}

func printTable(w io.Writer, v model.Value) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	switch v := v.(type) {
	case model.Vector:
		sort.Slice(v, func(i, j int) bool { return v[i].Metric.String() < v[j].Metric.String() })
		fmt.Fprintln(tw, "SERIES\tVALUE")
		for _, s := range v {
			fmt.Fprintf(tw, "%s\t%s\n", s.Metric, sampleValue(s.Value, s.Histogram))
		}
	case model.Matrix:
		sort.Slice(v, func(i, j int) bool { return v[i].Metric.String() < v[j].Metric.String() })
		fmt.Fprintln(tw, "SERIES\tTIME\tVALUE")
		for _, s := range v {
			for _, p := range s.Values {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Metric, p.Timestamp.Time().UTC().Format(time.RFC3339), p.Value)
			}
			for _, h := range s.Histograms {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Metric, h.Timestamp.Time().UTC().Format(time.RFC3339), sampleValue(0, h.Histogram))
			}
		}
	case *model.Scalar:
		fmt.Fprintln(tw, v.Value)
	case *model.String:
		fmt.Fprintln(tw, v.Value)
	default:
		return fmt.Errorf("unexpected result type %s", v.Type())
	}
	return tw.Flush()
}

func sampleValue(v model.SampleValue, h *model.SampleHistogram) string {
	if h != nil {
		return fmt.Sprintf("histogram{count=%s, sum=%s}", h.Count, h.Sum)
	}
	return v.String()
}

// credentials adds the API key and tenant header to every request.
type credentials struct {
	key, tenant string
	next        http.RoundTripper
}

func (c credentials) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if c.key != "" {
		r.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.tenant != "" {
		r.Header.Set("X-Scope-OrgID", c.tenant)
	}
	return c.next.RoundTrip(r)
}

// prefixed serves the Prometheus API client from a sub-path.
type prefixed struct {
	api.Client
	prefix string
}

func (p prefixed) URL(ep string, args map[string]string) *url.URL {
	return p.Client.URL(p.prefix+ep, args)
}
