package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/config"
)

func TestRefusesOffLoopbackWithoutKeys(t *testing.T) {
	cfg, err := config.Load([]string{"--data-dir", t.TempDir(), "--http-addr", "0.0.0.0:0", "--otlp-http-addr", "127.0.0.1:0", "--otlp-grpc-addr", ""}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), cfg, testLogger(t))
	if !errors.Is(err, ErrInsecure) {
		t.Fatalf("Start = %v, want ErrInsecure", err)
	}
	for _, want := range []string{"http on 0.0.0.0:0", "mirador keys create", "--insecure", "127.0.0.1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7070": true, "[::1]:7070": true, "localhost:7070": true, "127.0.0.2:0": true,
		":7070": false, "0.0.0.0:7070": false, "[::]:7070": false, "10.1.2.3:7070": false, "192.168.0.1:0": false,
	} {
		if got := loopbackOnly(context.Background(), addr); got != want {
			t.Errorf("loopbackOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestAuthAndTenantIsolation runs one server with keys and checks every
// credential rule and that tenants never see each other's data.
func TestAuthAndTenantIsolation(t *testing.T) {
	dir := t.TempDir()
	keys := createKeys(t, dir, map[string]struct {
		tenant string
		scopes []auth.Scope
	}{
		"ingestA": {"team-a", []auth.Scope{auth.ScopeIngest}},
		"readA":   {"team-a", []auth.Scope{auth.ScopeRead}},
		"ingestB": {"team-b", []auth.Scope{auth.ScopeIngest}},
		"readB":   {"team-b", []auth.Scope{auth.ScopeRead}},
		"admin":   {"default", []auth.Scope{auth.ScopeAdmin}},
	})
	s := testServerIn(t, dir, "")
	base := httpBase(s)
	now := time.Now()

	// Each tenant writes its own series with Prometheus's remote-write client.
	for _, w := range []struct{ key, name, secret string }{{keys["ingestA"], "team", "a"}, {keys["ingestB"], "team", "b"}} {
		if _, err := remoteWriteClient(t, s, w.key, remoteapi.WriteV1MessageType).Store(context.Background(),
			writeRequest(t, timeSeries("payments_total", 1, now, "owner", w.secret), timeSeries("only_"+w.secret, 1, now, "secret_label_"+w.secret, "x")), 0); err != nil {
			t.Fatalf("tenant %s write: %v", w.secret, err)
		}
	}

	q := url.Values{"query": {"payments_total"}}
	for _, c := range []struct {
		name   string
		c      client
		method string
		path   string
		params url.Values
		status int
		want   string
	}{
		{"no credentials", client{base: base}, "GET", "/prometheus/api/v1/query", q, 401, "mirador keys create"},
		{"wrong key", client{base: base, key: "mir_" + strings.Repeat("x", 43)}, "GET", "/prometheus/api/v1/query", q, 401, "unauthorized"},
		{"garbage bearer", client{base: base, key: "hunter2"}, "GET", "/prometheus/api/v1/query", q, 401, "unauthorized"},
		{"ingest key cannot read", client{base: base, key: keys["ingestA"]}, "GET", "/prometheus/api/v1/query", q, 403, `needs the \"read\" scope`},
		{"read key cannot write", client{base: base, key: keys["readA"]}, "POST", "/prometheus/api/v1/write", nil, 403, `needs the \"ingest\" scope`},
		{"read key cannot list keys", client{base: base, key: keys["readA"]}, "GET", "/api/v1/keys", nil, 403, `needs the \"admin\" scope`},
		{"non-admin cannot pick another tenant", client{base: base, key: keys["readA"], tenantID: "team-b"}, "GET", "/prometheus/api/v1/query", q, 403, "X-Scope-OrgID"},
		{"admin naming an unknown tenant", client{base: base, key: keys["admin"], tenantID: "nobody"}, "GET", "/prometheus/api/v1/query", q, 400, "mirador tenants create"},
		{"read key cannot profile", client{base: base, key: keys["readA"]}, "GET", "/debug/pprof/", nil, 403, `needs the \"admin\" scope`},
		{"admin may profile", client{base: base, key: keys["admin"]}, "GET", "/debug/pprof/", nil, 200, "goroutine"},
		{"health needs no key", client{base: base}, "GET", "/-/healthy", nil, 200, "Healthy"},
		{"own metrics need no key", client{base: base}, "GET", "/metrics", nil, 200, "mirador_auth_requests_total"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if c.params != nil {
				path += "?" + c.params.Encode()
			}
			status, body := c.c.do(t, c.method, path, nil, nil)
			if status != c.status || !contains(body, c.want) {
				t.Fatalf("%s %s: %d %s; want %d containing %q", c.method, c.path, status, body, c.status, c.want)
			}
		})
	}

	// Reads see the caller's tenant only, on every read surface.
	a, b := client{base: base, key: keys["readA"]}, client{base: base, key: keys["readB"], basic: true}
	if got := a.query(t, "payments_total"); len(got) != 1 || got[`payments_total{owner="a"}`] != 1 {
		t.Errorf("tenant a query: %v", got)
	}
	if got := b.query(t, `{__name__=~".+"}`); len(got) != 2 || got[`payments_total{owner="b"}`] != 1 || got[`only_b{secret_label_b="x"}`] != 1 {
		t.Errorf("tenant b (basic auth, as Grafana sends) sees %v", got)
	}
	for _, path := range []string{"/prometheus/api/v1/series?match[]=" + url.QueryEscape(`{__name__=~".+"}`), "/prometheus/api/v1/labels", "/prometheus/api/v1/label/__name__/values", "/prometheus/api/v1/label/secret_label_a/values", "/prometheus/api/v1/status/tsdb", "/prometheus/api/v1/status/self_metrics"} {
		status, body := b.get(t, path, nil)
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		if contains(body, "only_a") || contains(body, "secret_label_a") || contains(body, `"a"`) || contains(body, "team-a") {
			t.Errorf("tenant b sees tenant a's data at %s: %.300s", path, body)
		}
	}
	if status, body := b.get(t, "/prometheus/api/v1/label/secret_label_a/values", nil); status != 200 || !contains(body, `"data":[]`) {
		t.Errorf("label values of another tenant's label: %d %s", status, body)
	}

	// An admin key may select any tenant.
	admin := client{base: base, key: keys["admin"], tenantID: "team-a"}
	if got := admin.query(t, "only_a"); len(got) != 1 {
		t.Errorf("admin as team-a: %v", got)
	}
	if status, body := (client{base: base, key: keys["admin"]}).get(t, "/api/v1/whoami", nil); status != 200 || !contains(body, `"tenant":"default"`) || !contains(body, `"admin"`) {
		t.Errorf("whoami: %d %s", status, body)
	}

	// OTLP over gRPC carries the key in metadata.
	conn, err := grpc.NewClient(s.Addr("otlp_grpc"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	otlp := pmetricotlp.NewGRPCClient(conn)
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("grpc_gauge")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(5)
	m.Gauge().DataPoints().At(0).SetTimestamp(pmetricTimestamp(now))
	req := pmetricotlp.NewExportRequestFromMetrics(md)
	if _, err := otlp.Export(context.Background(), req); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without key: %v, want Unauthenticated", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keys["readA"])
	if _, err := otlp.Export(ctx, req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC with a read key: %v, want PermissionDenied", err)
	}
	ctx = metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keys["ingestB"])
	if _, err := otlp.Export(ctx, req); err != nil {
		t.Fatalf("gRPC with tenant b's ingest key: %v", err)
	}
	if got := b.query(t, "grpc_gauge"); len(got) != 1 {
		t.Errorf("tenant b does not see its gRPC write: %v", got)
	}
	if got := a.query(t, "grpc_gauge"); len(got) != 0 {
		t.Errorf("tenant a sees tenant b's gRPC write: %v", got)
	}

	// OTLP over HTTP on its own port is authenticated the same way.
	status, body := (client{base: "http://" + s.Addr("otlp_http")}).do(t, http.MethodPost, "/v1/metrics", strings.NewReader("{}"), http.Header{"Content-Type": {"application/json"}})
	if status != 401 || !contains(body, "unauthorized") {
		t.Errorf("OTLP/HTTP without key: %d %s", status, body)
	}
}
