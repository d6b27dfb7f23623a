package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/config"
	"github.com/miradorhq/mirador/internal/meta"
)

// testServer starts a real server on random loopback ports with a temp data
// dir. file, if not empty, is the YAML config; args are server flags.
func testServer(t testing.TB, file string, args ...string) *Server {
	t.Helper()
	return testServerIn(t, t.TempDir(), file, args...)
}

// testServerIn is testServer on a given data dir, e.g. one where
// createKeys has made keys.
func testServerIn(t testing.TB, dir, file string, args ...string) *Server {
	t.Helper()
	base := []string{"--data-dir", dir, "--http-addr", "127.0.0.1:0", "--otlp-http-addr", "127.0.0.1:0", "--otlp-grpc-addr", "127.0.0.1:0", "--xray-udp-addr", "127.0.0.1:0",
		"--metrics.self-scrape-interval", "0s", "--shutdown-timeout", "10s"}
	if file != "" {
		p := filepath.Join(dir, "mirador.yml")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		base = append(base, "--config", p)
	}
	cfg, err := config.Load(append(base, args...), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

// createKeys opens the meta store of dataDir before the server starts and
// creates the tenants and keys the test needs; it returns secrets by name.
func createKeys(t *testing.T, dataDir string, keys map[string]struct {
	tenant string
	scopes []auth.Scope
}) map[string]string {
	t.Helper()
	ctx := context.Background()
	store, err := meta.Open(ctx, meta.Options{DSN: filepath.Join(dataDir, "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tenants, ks := auth.NewTenants(store), auth.NewKeys(store)
	secrets := map[string]string{}
	for name, k := range keys {
		if ok, _ := tenants.Exists(ctx, k.tenant); !ok {
			if err := tenants.Create(ctx, k.tenant); err != nil {
				t.Fatal(err)
			}
		}
		_, secret, err := ks.Create(ctx, k.tenant, name, k.scopes)
		if err != nil {
			t.Fatal(err)
		}
		secrets[name] = secret
	}
	return secrets
}

// client talks to the main port as a given credential.
type client struct {
	base          string
	key, tenantID string
	basic         bool
}

func (c client) do(t *testing.T, method, path string, body io.Reader, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	switch {
	case c.key != "" && c.basic:
		req.SetBasicAuth("grafana", c.key)
	case c.key != "":
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.tenantID != "" {
		req.Header.Set("X-Scope-OrgID", c.tenantID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (c client) get(t *testing.T, path string, params url.Values) (int, []byte) {
	t.Helper()
	if params != nil {
		path += "?" + params.Encode()
	}
	return c.do(t, http.MethodGet, path, nil, nil)
}

// query evaluates expr at now and returns each series' value by its
// Prometheus text form, failing the test on any error.
func (c client) query(t *testing.T, expr string) map[string]float64 {
	t.Helper()
	status, body := c.get(t, "/prometheus/api/v1/query", url.Values{"query": {expr}})
	if status != http.StatusOK {
		t.Fatalf("query %s: %d %s", expr, status, body)
	}
	var resp struct {
		Data struct {
			Result []struct {
				Metric    model.Metric               `json:"metric"`
				Value     model.SamplePair           `json:"value"`
				Histogram *model.SampleHistogramPair `json:"histogram"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("query %s: %v in %s", expr, err, body)
	}
	out := map[string]float64{}
	for _, r := range resp.Data.Result {
		out[r.Metric.String()] = float64(r.Value.Value)
	}
	return out
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrapeTarget serves cs in the exposition format from a loopback HTTP
// server and returns its host:port.
func scrapeTarget(t *testing.T, cs ...prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(cs...)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func httpBase(s *Server) string { return "http://" + s.Addr("http") }

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
