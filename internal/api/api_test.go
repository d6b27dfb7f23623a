package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miradorhq/mirador/internal/alarms"
	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/ingest/otlp"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/logs/metricfilter"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/metrics"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/traces"
	"github.com/miradorhq/mirador/internal/traces/sampling"
	"github.com/miradorhq/mirador/internal/traces/xray"
)

type fixture struct {
	srv  *httptest.Server
	keys *auth.Keys
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := meta.Open(ctx, meta.Options{DSN: filepath.Join(dir, "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	tenants, keys := auth.NewTenants(store), auth.NewKeys(store)
	authn := auth.NewAuthenticator(tenants, keys, reg)
	eng, err := metrics.Open(ctx, metrics.Options{Dir: filepath.Join(dir, "metrics"), RetentionTime: time.Hour, QueryTimeout: time.Minute,
		QueryMaxSamples: 1000, QueryMaxConcurrency: 2, LookbackDelta: 5 * time.Minute, ScrapeTenant: "default", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	events, err := eventstore.Open(ctx, eventstore.Options{Dir: filepath.Join(dir, "events"), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	logsSvc := logs.New(logs.Options{Store: events, Groups: logs.NewGroups(store, nil), Registerer: reg})
	if _, err := logsSvc.Groups().Create(ctx, "default", "job", 0); err != nil {
		t.Fatal(err)
	}
	notifier := notify.New(notify.Options{DB: store.DB(), Senders: map[string]channel.Sender{notify.ProtocolWebhook: channel.Webhook{Client: http.DefaultClient}}, Registerer: reg})
	alarmSvc := alarms.New(alarms.Options{DB: store.DB(), Notify: notifier, Metrics: eng, History: events, Registerer: reg})
	if _, err := notifier.PutTopic(ctx, "default", notify.Topic{Name: "job"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := alarmSvc.Put(ctx, "default", alarms.Alarm{Name: "job", Query: "up", PeriodSeconds: 60, EvaluationPeriods: 1, ComparisonOperator: "GreaterThanThreshold"}); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(Options{
		Alarms: alarmSvc, Notify: notifier, MetricFilters: metricfilter.NewStore(store.DB(), nil),
		Authenticator: authn, Tenants: tenants, Keys: keys, Metrics: eng, Logs: logsSvc,
		Traces: traces.New(traces.Options{Store: events, Registerer: reg}), XRay: xray.NewDecoder(),
		Sampling: sampling.NewService(store, sampling.Options{Registerer: reg}),
		OTLP:     otlp.NewReceiver(otlp.Options{Registerer: reg}),
		Ready:    func() error { return nil }, Version: "test", Gatherer: reg, Registerer: reg,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = eng.Close()
		_ = events.Close()
		_ = authn.Close()
		_ = store.Close()
	})
	return fixture{srv: srv, keys: keys}
}

func (f fixture) call(t *testing.T, method, path, key, body string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

func TestEveryDocumentedRouteIsServed(t *testing.T) {
	f := newFixture(t)
	for _, rt := range routeTable {
		if rt.method != "GET" || rt.stream {
			continue // streams are tested where they are served (TestLiveTailStreamsMatchingRecords)
		}
		path := strings.NewReplacer("{$}", "", "sampling-rules/{name}", "sampling-rules/Default", "{name}", "job", "{name...}", "job").Replace(rt.path)
		if strings.Contains(rt.path, "query") || strings.HasSuffix(rt.path, "format_query") || strings.HasSuffix(rt.path, "parse_query") {
			path += "?query=up&start=0&end=60&step=15"
		}
		status, _, body := f.call(t, "GET", path, "", "")
		// A 404 naming a missing resource (a subscription id) is served.
		if status >= 500 || status == http.StatusNotFound && (strings.Contains(body, "no endpoint") || strings.Contains(body, "page not found")) {
			t.Errorf("GET %s (route %s): %d %s", path, rt.name, status, body)
		}
	}
}

func TestOpenAPIDocumentsTheRouteTable(t *testing.T) {
	f := newFixture(t)
	status, doc, body := f.call(t, "GET", "/api/v1/openapi.json", "", "")
	if status != 200 || doc["openapi"] != "3.1.0" {
		t.Fatalf("%d %.200s", status, body)
	}
	paths := doc["paths"].(map[string]any)
	for _, rt := range routeTable {
		if rt.method == "" {
			continue
		}
		p := openAPIPath(rt.path)
		ops, ok := paths[p].(map[string]any)
		if !ok || ops[strings.ToLower(rt.method)] == nil {
			t.Errorf("%s %s is served but not in the OpenAPI document", rt.method, p)
		}
	}
	for _, p := range []string{"/prometheus/api/v1/query", "/prometheus/api/v1/write", "/api/v1/keys/{id}"} {
		if paths[p] == nil {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}

func TestTenantAndKeyLifecycle(t *testing.T) {
	f := newFixture(t)
	_, admin, err := f.keys.Create(context.Background(), "default", "root", []auth.Scope{auth.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := f.call(t, "POST", "/api/v1/tenants", admin, `{"id":"acme"}`); status != 201 {
		t.Fatalf("create tenant: %d %s", status, body)
	}
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"id":"acme"}`, 409, "exists"},
		{`{"id":"Bad Name"}`, 400, "invalid tenant"},
		{`{"id":"x","extra":1}`, 400, "unknown field"},
		{``, 400, "empty"},
	} {
		if status, _, body := f.call(t, "POST", "/api/v1/tenants", admin, c.body); status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("POST tenants %s: %d %s, want %d %q", c.body, status, body, c.status, c.want)
		}
	}

	status, created, body := f.call(t, "POST", "/api/v1/keys", admin, `{"tenant":"acme","name":"grafana","scopes":["read"]}`)
	if status != 201 {
		t.Fatalf("create key: %d %s", status, body)
	}
	data := created["data"].(map[string]any)
	secret, id := data["secret"].(string), data["id"].(string)
	if !strings.HasPrefix(secret, "mir_") {
		t.Fatalf("secret %q", secret)
	}
	if status, who, _ := f.call(t, "GET", "/api/v1/whoami", secret, ""); status != 200 || who["data"].(map[string]any)["tenant"] != "acme" {
		t.Errorf("whoami with the new key: %d %v", status, who)
	}
	if _, _, list := f.call(t, "GET", "/api/v1/keys", admin, ""); strings.Contains(list, secret) || !strings.Contains(list, id) {
		t.Errorf("key list leaks the secret or lacks the key: %s", list)
	}
	if status, _, body := f.call(t, "POST", "/api/v1/keys", admin, `{"tenant":"ghost","scopes":["read"]}`); status != 400 || !strings.Contains(body, "ghost") {
		t.Errorf("key for unknown tenant: %d %s", status, body)
	}
	if status, _, body := f.call(t, "POST", "/api/v1/keys", admin, `{"scopes":["superuser"]}`); status != 400 || !strings.Contains(body, "superuser") {
		t.Errorf("key with bad scope: %d %s", status, body)
	}
	if status, revoked, body := f.call(t, "DELETE", "/api/v1/keys/"+id, admin, ""); status != 200 || revoked["data"].(map[string]any)["revoked_at"] == nil {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if status, _, _ := f.call(t, "DELETE", "/api/v1/keys/nope", admin, ""); status != 404 {
		t.Errorf("revoke unknown key: %d", status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _, _ := f.call(t, "GET", "/api/v1/whoami", secret, "")
		if status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key still accepted after 5s (status %d)", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestUnknownAPIPathIsJSON404(t *testing.T) {
	f := newFixture(t)
	status, m, body := f.call(t, "GET", "/api/v1/nope", "", "")
	if status != 404 || m["errorType"] != "not_found" || !strings.Contains(body, "openapi.json") {
		t.Errorf("%d %s", status, body)
	}
	if status, _, body := f.call(t, "GET", "/", "", ""); status != 200 || !strings.Contains(body, "/prometheus/api/v1/query") {
		t.Errorf("index: %d %.200s", status, body)
	}
}
