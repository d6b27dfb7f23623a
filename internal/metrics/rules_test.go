package metrics

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/tenant"
)

const ruleFile = `groups:
- name: shop
  rules:
  - record: shop:queue_depth:max
    expr: max(queue_depth)
  - alert: QueueTooDeep
    expr: max(queue_depth) > 5
    labels: {severity: page, topic: oncall}
    annotations:
      summary: 'queue depth is {{ $value }}'
`

func openRulesEngine(t *testing.T, rules string, sink AlertSink) (*Engine, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.rules.yml")
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	pc := promconfig.DefaultConfig
	pc.GlobalConfig.EvaluationInterval = model.Duration(100 * time.Millisecond)
	pc.RuleFiles = []string{filepath.Join(dir, "*.rules.yml")}
	e, err := Open(context.Background(), Options{
		Dir: filepath.Join(dir, "tsdb"), RetentionTime: 24 * time.Hour, QueryTimeout: time.Minute, QueryMaxSamples: 1_000_000,
		QueryMaxConcurrency: 4, LookbackDelta: 5 * time.Minute, ScrapeTenant: tenant.Default, Prometheus: &pc, AlertSink: sink,
		ListenAddr: "127.0.0.1:7070",
	})
	if err == nil {
		t.Cleanup(func() { _ = e.Close() })
	}
	return e, err
}

func TestRuleFilesRecordAndAlertOnChanges(t *testing.T) {
	var mu sync.Mutex
	var got []Alert
	e, err := openRulesEngine(t, ruleFile, func(_ context.Context, tenant string, alerts []Alert) error {
		mu.Lock()
		defer mu.Unlock()
		if tenant != "default" {
			t.Errorf("alerts for tenant %q", tenant)
		}
		got = append(got, alerts...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	set := func(v float64) {
		app, _ := e.Appender(context.Background(), tenant.Default)
		if _, err := app.Append(0, labels.FromStrings("__name__", "queue_depth"), 0, time.Now().UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(n int) []Alert {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			out := append([]Alert(nil), got...)
			mu.Unlock()
			if len(out) >= n || time.Now().After(deadline) {
				return out
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	set(9)
	wait(1)
	time.Sleep(500 * time.Millisecond) // five more evaluations: no repeat
	alerts := wait(0)
	if len(alerts) != 1 {
		t.Fatalf("alerts %+v, want one firing", alerts)
	}
	a := alerts[0]
	if a.Status != "firing" || a.Labels["alertname"] != "QueueTooDeep" || a.Labels["topic"] != "oncall" || a.Annotations["summary"] != "queue depth is 9" ||
		a.StartsAt.IsZero() || !strings.HasPrefix(a.GeneratorURL, "http://127.0.0.1:7070/prometheus/graph?") || len(a.Fingerprint) != 16 {
		t.Errorf("firing alert %+v", a)
	}
	if v := instant(t, e, tenant.Default, "shop:queue_depth:max", time.Now()); v["{__name__=\"shop:queue_depth:max\"}"] != 9 {
		t.Errorf("recording rule: %v", v)
	}

	// /api/v1/rules and /api/v1/alerts answer with Prometheus's own handlers.
	api := e.PrometheusAPI("/prometheus/api/v1")
	for path, want := range map[string]string{"/prometheus/api/v1/rules": `"name":"shop"`, "/prometheus/api/v1/alerts": `"state":"firing"`} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(tenant.WithID(context.Background(), tenant.Default)))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) || !strings.Contains(rec.Body.String(), "QueueTooDeep") {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}

	set(1)
	alerts = wait(2)
	if len(alerts) != 2 || alerts[1].Status != "resolved" || alerts[1].EndsAt.IsZero() || alerts[1].Fingerprint != a.Fingerprint {
		t.Errorf("after the queue drained: %+v", alerts)
	}
}

func TestInvalidRuleFileFailsOpen(t *testing.T) {
	_, err := openRulesEngine(t, "groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: max(\n", nil)
	if err == nil || !strings.Contains(err.Error(), "shop.rules.yml") {
		t.Errorf("Open: %v, want an error naming the file", err)
	}
}
