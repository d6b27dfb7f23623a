package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miradorhq/mirador/internal/auth"
)

// TestRealPrometheusRemoteWrite runs Debian's prometheus server (installed
// by .ci/run): it scrapes a client_golang target and remote-writes to
// Mirador with an API key as its basic-auth password.
func TestRealPrometheusRemoteWrite(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("the prometheus binary is not installed (apt-get install prometheus; .ci/run does)")
	}
	jobs := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_jobs_total", Help: "Jobs."})
	jobs.Add(42)
	target := scrapeTarget(t, jobs)

	dir := t.TempDir()
	keys := createKeys(t, dir, map[string]struct {
		tenant string
		scopes []auth.Scope
	}{"prometheus": {"ops", []auth.Scope{auth.ScopeIngest}}, "grafana": {"ops", []auth.Scope{auth.ScopeRead}}})
	s := testServerIn(t, dir, "")

	promDir := t.TempDir()
	promCfg := filepath.Join(promDir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["`+target+`"]
remote_write:
  - url: `+httpBase(s)+`/prometheus/api/v1/write
    basic_auth:
      username: prometheus
      password: `+keys["prometheus"]+`
    queue_config:
      batch_send_deadline: 1s
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(promDir, "data"), "--web.listen-address=127.0.0.1:0")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()

	c := client{base: httpBase(s), key: keys["grafana"], basic: true}
	deadline := time.Now().Add(60 * time.Second)
	for c.query(t, `app_jobs_total{job="app"}`)[`app_jobs_total{instance="`+target+`", job="app"}`] != 42 {
		if time.Now().After(deadline) {
			t.Fatalf("no remote-written sample after 60s; prometheus logs:\n%s", logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got := c.query(t, `up{job="app"}`); len(got) != 1 {
		t.Errorf("up from the real Prometheus: %v", got)
	}
	if status, _ := (client{base: httpBase(s)}).get(t, "/prometheus/api/v1/query?query=up", nil); status != 401 {
		t.Errorf("query without a key: %d, want 401", status)
	}
}
