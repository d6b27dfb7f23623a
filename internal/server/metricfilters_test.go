package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/auth"
)

// A metric filter made over HTTP turns NDJSON log lines into series that
// PromQL finds, with values from fields and dimensions as labels.
func TestMetricFiltersTurnLogLinesIntoSeries(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	var saved struct{ FilterName, Selector string }
	c.apiJSON(t, "PUT", "/api/v1/logs/metric-filters/latency", map[string]any{
		"logGroupName": "shop/api", "filterPattern": `{ $.status = 200 }`,
		"metricTransformations": []map[string]any{{"metricName": "api.latency", "metricNamespace": "Shop", "metricValue": "$.latency_ms",
			"dimensions": map[string]string{"route": "$.route"}, "unit": "Milliseconds"}},
	}, http.StatusOK, &saved)
	if want := `{__name__="api_latency", namespace="Shop", log_group="shop/api", metric_filter="latency"}`; saved.FilterName != "latency" || saved.Selector != want {
		t.Errorf("saved %+v, want selector %s", saved, want)
	}
	c.apiJSON(t, "PUT", "/api/v1/logs/metric-filters/server-errors", map[string]any{
		"logGroupName": "shop/api", "filterPattern": `{ $.status >= 500 }`,
		"metricTransformations": []map[string]any{{"metricName": "api_5xx", "metricNamespace": "Shop", "metricValue": "1", "defaultValue": 0}},
	}, http.StatusOK, nil)

	for _, tc := range []struct{ name, body, want string }{
		{"bad pattern", `{"logGroupName":"shop/api","filterPattern":"{ $.status = ","metricTransformations":[{"metricName":"m","metricNamespace":"N","metricValue":"1"}]}`, "filterPattern: "},
		{"dimensions and default", `{"logGroupName":"shop/api","filterPattern":"{ $.a = 1 }","metricTransformations":[{"metricName":"m","metricNamespace":"N","metricValue":"1","defaultValue":0,"dimensions":{"a":"$.a"}}]}`, "defaultValue cannot be combined with dimensions"},
		{"name differs", `{"filterName":"other","logGroupName":"shop/api","filterPattern":"","metricTransformations":[{"metricName":"m","metricNamespace":"N","metricValue":"1"}]}`, "in the body differs"},
		{"unknown field", `{"logGroupName":"shop/api","filterPattern":"","metricTransformations":[{"metricName":"m","metricNamespace":"N","metricValue":"1","metricUnit":"Count"}]}`, "metricUnit"},
	} {
		status, body := c.do(t, "PUT", "/api/v1/logs/metric-filters/bad", strings.NewReader(tc.body), http.Header{"Content-Type": {"application/json"}})
		if status != http.StatusBadRequest || !contains(body, tc.want) {
			t.Errorf("%s: %d %s, want 400 about %q", tc.name, status, body, tc.want)
		}
	}

	var tested struct {
		Matches []struct {
			EventNumber     int
			ExtractedValues map[string]string
			MetricValue     *float64
		}
	}
	c.apiJSON(t, "POST", "/api/v1/logs/metric-filters/test", map[string]any{
		"filterPattern": `[ip, user, status=5*, bytes]`, "logEventMessages": []string{"10.0.0.1 - 200 10", "10.0.0.2 - 503 99"},
		"metricTransformations": []map[string]any{{"metricName": "m", "metricNamespace": "N", "metricValue": "$bytes"}},
	}, http.StatusOK, &tested)
	if m := tested.Matches; len(m) != 1 || m[0].EventNumber != 2 || m[0].ExtractedValues["$status"] != "503" || m[0].MetricValue == nil || *m[0].MetricValue != 99 {
		t.Errorf("test: %+v", tested)
	}
	if status, body := c.do(t, "POST", "/api/v1/logs/metric-filters/test", strings.NewReader(`{"filterPattern":"{ $.a = ","logEventMessages":["x"]}`), nil); status != http.StatusBadRequest || !contains(body, "filterPattern") {
		t.Errorf("test with a bad pattern: %d %s", status, body)
	}

	// Records two minutes old: their minute has closed, so the sums are
	// written at the next flush, within seconds.
	at := time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339Nano)
	var lines []string
	for _, l := range []string{
		`"status":200,"latency_ms":120,"route":"/cart"`,
		`"status":200,"latency_ms":30,"route":"/cart"`,
		`"status":200,"latency_ms":7,"route":"/pay"`,
		`"status":503,"latency_ms":900,"route":"/pay"`,
	} {
		lines = append(lines, `{"time":"`+at+`","message":"served",`+l+`}`)
	}
	status, body := c.do(t, "POST", "/api/v1/logs/ingest?group=shop/api", strings.NewReader(strings.Join(lines, "\n")), http.Header{"Content-Type": {"application/x-ndjson"}})
	if status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, body)
	}
	want := map[string]float64{
		`api_latency{log_group="shop/api", metric_filter="latency", namespace="Shop", route="/cart"}`: 150,
		`api_latency{log_group="shop/api", metric_filter="latency", namespace="Shop", route="/pay"}`:  7,
		`api_5xx{log_group="shop/api", metric_filter="server-errors", namespace="Shop"}`:              1, // 1 + three defaults of 0
	}
	var got map[string]float64
	eventually(t, 20*time.Second, "the metric filters' series", func() bool {
		got = c.query(t, `{log_group="shop/api"}`)
		return len(got) == len(want)
	})
	for series, v := range want {
		if got[series] != v {
			t.Errorf("%s = %v, want %v (all: %v)", series, got[series], v, got)
		}
	}

	var list struct{ MetricFilters []struct{ FilterName string } }
	c.apiJSON(t, "GET", "/api/v1/logs/metric-filters?group=shop/api", nil, http.StatusOK, &list)
	if len(list.MetricFilters) != 2 || list.MetricFilters[0].FilterName != "latency" {
		t.Errorf("list: %+v", list)
	}
	c.apiJSON(t, "DELETE", "/api/v1/logs/metric-filters/latency?group=shop/api", nil, http.StatusOK, nil)
	c.apiJSON(t, "DELETE", "/api/v1/logs/metric-filters/latency?group=shop/api", nil, http.StatusNotFound, nil)
	c.apiJSON(t, "DELETE", "/api/v1/logs/metric-filters/latency", nil, http.StatusBadRequest, nil)
	// Deleting the log group deletes its filters.
	c.apiJSON(t, "DELETE", "/api/v1/logs/groups/shop/api", nil, http.StatusOK, nil)
	c.apiJSON(t, "GET", "/api/v1/logs/metric-filters", nil, http.StatusOK, &list)
	if len(list.MetricFilters) != 0 {
		t.Errorf("after deleting the group: %+v", list)
	}
}

func TestMetricFiltersAreTenantsOwnAndNeedAdminToChange(t *testing.T) {
	dir := t.TempDir()
	keys := createKeys(t, dir, map[string]struct {
		tenant string
		scopes []auth.Scope
	}{
		"a":      {tenant: "team-a", scopes: []auth.Scope{auth.ScopeAdmin}},
		"b":      {tenant: "team-b", scopes: []auth.Scope{auth.ScopeAdmin}},
		"reader": {tenant: "team-a", scopes: []auth.Scope{auth.ScopeRead}},
		"ingest": {tenant: "team-a", scopes: []auth.Scope{auth.ScopeIngest}},
	})
	s := testServerIn(t, dir, "")
	base := httpBase(s)
	a, b := client{base: base, key: keys["a"]}, client{base: base, key: keys["b"]}
	filter := map[string]any{"logGroupName": "app", "filterPattern": "ERROR", "metricTransformations": []map[string]any{{"metricName": "errors", "metricNamespace": "App", "metricValue": "1"}}}
	a.apiJSON(t, "PUT", "/api/v1/logs/metric-filters/errors", filter, http.StatusOK, nil)
	for _, k := range []string{"reader", "ingest"} {
		client{base: base, key: keys[k]}.apiJSON(t, "PUT", "/api/v1/logs/metric-filters/errors", filter, http.StatusForbidden, nil)
	}
	var list struct{ MetricFilters []any }
	client{base: base, key: keys["reader"]}.apiJSON(t, "GET", "/api/v1/logs/metric-filters", nil, http.StatusOK, &list)
	if len(list.MetricFilters) != 1 {
		t.Errorf("reader of team-a sees %v", list)
	}
	b.apiJSON(t, "GET", "/api/v1/logs/metric-filters", nil, http.StatusOK, &list)
	if len(list.MetricFilters) != 0 {
		t.Errorf("team-b sees %v", list)
	}
	b.apiJSON(t, "DELETE", "/api/v1/logs/metric-filters/errors?group=app", nil, http.StatusNotFound, nil)
}
