package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/tenant"
)

const shopRules = `groups:
- name: shop
  rules:
  - record: shop:queue_depth:max
    expr: max(queue_depth)
  - alert: QueueTooDeep
    expr: max by (instance) (queue_depth) > 5
    for: 0s
    labels: {severity: page}
    annotations:
      summary: 'queue {{ $labels.instance }} in {{ $externalLabels.cluster }} is {{ $value }} deep'
`

// ruleEngine is an Engine evaluating rule files every 100ms for the
// "default" tenant, with the alert changes it notified.
type ruleEngine struct {
	*Engine
	dir string
	reg *prometheus.Registry

	mu      sync.Mutex
	changes []Alert
}

// openRuleEngine writes rules to shop.rules.yml in a temp dir and opens an
// Engine whose rule_files match it.
func openRuleEngine(t *testing.T, rules string) (*ruleEngine, error) {
	t.Helper()
	dir := t.TempDir()
	re := &ruleEngine{dir: dir, reg: prometheus.NewRegistry()}
	re.writeRules(t, rules)
	pc := promconfig.DefaultConfig
	pc.GlobalConfig.EvaluationInterval = model.Duration(100 * time.Millisecond)
	pc.GlobalConfig.ExternalLabels = labels.FromStrings("cluster", "eu1")
	pc.RuleFiles = []string{filepath.Join(dir, "*.rules.yml")}
	e, err := Open(context.Background(), Options{
		Dir: filepath.Join(dir, "tsdb"), RetentionTime: 24 * time.Hour, QueryTimeout: time.Minute, QueryMaxSamples: 1_000_000,
		QueryMaxConcurrency: 4, LookbackDelta: 5 * time.Minute, ScrapeTenant: tenant.Default, Prometheus: &pc,
		ListenAddr: "127.0.0.1:7070", Registerer: re.reg, Gatherer: re.reg,
		AlertSink: func(_ context.Context, id string, alerts []Alert) error {
			if id != tenant.Default {
				t.Errorf("alerts for tenant %q", id)
			}
			re.mu.Lock()
			defer re.mu.Unlock()
			re.changes = append(re.changes, alerts...)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = e.Close() })
	re.Engine = e
	return re, nil
}

func (re *ruleEngine) writeRules(t *testing.T, rules string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(re.dir, "shop.rules.yml"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setQueueDepth appends queue_depth{instance="q1"} now.
func (re *ruleEngine) setQueueDepth(t *testing.T, v float64) {
	t.Helper()
	app, err := re.Appender(context.Background(), tenant.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Append(0, labels.FromStrings("__name__", "queue_depth", "instance", "q1"), 0, time.Now().UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

// waitChanges waits until at least n changes were notified, then a few
// more evaluations, and returns them all.
func (re *ruleEngine) waitChanges(t *testing.T, n int) []Alert {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		re.mu.Lock()
		got := len(re.changes)
		re.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // five more evaluations, which must not repeat anything
	re.mu.Lock()
	defer re.mu.Unlock()
	return append([]Alert(nil), re.changes...)
}

// promAPIJSON GETs path from the Prometheus API as tenant id and decodes
// the answer's data.
func (re *ruleEngine) promAPIJSON(t *testing.T, id, path string, data any) {
	t.Helper()
	rec := httptest.NewRecorder()
	re.PrometheusAPI("/prometheus/api/v1").ServeHTTP(rec, withTenant(httptest.NewRequest("GET", path, nil), id))
	var body struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 || body.Status != "success" {
		t.Fatalf("GET %s: %d %s (%v)", path, rec.Code, rec.Body, err)
	}
	if err := json.Unmarshal(body.Data, data); err != nil {
		t.Fatalf("GET %s: data %s: %v", path, body.Data, err)
	}
}

func TestRuleFilesRecordAndAlertOnChanges(t *testing.T) {
	re, err := openRuleEngine(t, shopRules)
	if err != nil {
		t.Fatal(err)
	}
	re.setQueueDepth(t, 9)
	changes := re.waitChanges(t, 1)
	if len(changes) != 1 {
		t.Fatalf("changes %+v, want exactly one firing", changes)
	}
	firing := changes[0]
	wantLabels := map[string]string{"alertname": "QueueTooDeep", "instance": "q1", "severity": "page", "cluster": "eu1"}
	wantRule := filepath.Join(re.dir, "shop.rules.yml") + ";shop"
	if firing.Status != "firing" || !sameMap(firing.Labels, wantLabels) || firing.Annotations["summary"] != "queue q1 in eu1 is 9 deep" ||
		firing.StartsAt.IsZero() || !firing.EndsAt.IsZero() || firing.Rule != wantRule ||
		!strings.HasPrefix(firing.GeneratorURL, "http://127.0.0.1:7070/prometheus/graph?g0.expr=") {
		t.Errorf("firing alert %+v", firing)
	}
	// Alertmanager's fingerprint of the same labels.
	amLabels := model.LabelSet{}
	for k, v := range wantLabels {
		amLabels[model.LabelName(k)] = model.LabelValue(v)
	}
	if firing.Fingerprint != amLabels.Fingerprint().String() {
		t.Errorf("fingerprint %s, want Alertmanager's %s", firing.Fingerprint, amLabels.Fingerprint())
	}

	// The recording rule's series, through the PromQL API.
	var query struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	re.promAPIJSON(t, tenant.Default, "/prometheus/api/v1/query?query="+url.QueryEscape("shop:queue_depth:max"), &query)
	if len(query.Result) != 1 || query.Result[0].Metric["__name__"] != "shop:queue_depth:max" || query.Result[0].Value[1] != "9" {
		t.Errorf("recorded series: %+v", query.Result)
	}

	// /rules and /alerts: Prometheus's handlers over the rule manager.
	var ruleGroups struct {
		Groups []struct {
			Name  string `json:"name"`
			File  string `json:"file"`
			Rules []struct {
				Name   string `json:"name"`
				Type   string `json:"type"`
				State  string `json:"state"`
				Health string `json:"health"`
			} `json:"rules"`
		} `json:"groups"`
	}
	re.promAPIJSON(t, tenant.Default, "/prometheus/api/v1/rules", &ruleGroups)
	if g := ruleGroups.Groups; len(g) != 1 || g[0].Name != "shop" || g[0].File != filepath.Join(re.dir, "shop.rules.yml") || len(g[0].Rules) != 2 ||
		g[0].Rules[0].Type != "recording" || g[0].Rules[0].Health != "ok" ||
		g[0].Rules[1].Name != "QueueTooDeep" || g[0].Rules[1].Type != "alerting" || g[0].Rules[1].State != "firing" {
		t.Errorf("/rules: %+v", ruleGroups)
	}
	var alerts struct {
		Alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			State       string            `json:"state"`
		} `json:"alerts"`
	}
	re.promAPIJSON(t, tenant.Default, "/prometheus/api/v1/alerts", &alerts)
	if a := alerts.Alerts; len(a) != 1 || a[0].Labels["alertname"] != "QueueTooDeep" || a[0].State != "firing" || a[0].Annotations["summary"] != "queue q1 in eu1 is 9 deep" {
		t.Errorf("/alerts: %+v", alerts)
	}
	// Another tenant has no rules.
	ruleGroups.Groups = nil
	re.promAPIJSON(t, "other", "/prometheus/api/v1/rules", &ruleGroups)
	alerts.Alerts = nil
	re.promAPIJSON(t, "other", "/prometheus/api/v1/alerts", &alerts)
	if len(ruleGroups.Groups) != 0 || len(alerts.Alerts) != 0 {
		t.Errorf("tenant other: rules %+v, alerts %+v", ruleGroups, alerts)
	}

	re.setQueueDepth(t, 1)
	changes = re.waitChanges(t, 2)
	if len(changes) != 2 {
		t.Fatalf("changes %+v, want firing then one resolved", changes)
	}
	resolved := changes[1]
	if resolved.Status != "resolved" || resolved.EndsAt.IsZero() || resolved.EndsAt.Before(resolved.StartsAt) ||
		resolved.Fingerprint != firing.Fingerprint || resolved.Rule != wantRule || !sameMap(resolved.Labels, wantLabels) {
		t.Errorf("resolved alert %+v", resolved)
	}

	// Self-metrics: Prometheus's rule metrics, labelled with the tenant.
	if n := gathered(t, re.reg, "prometheus_rule_group_rules", map[string]string{"tenant": "default", "rule_group": wantRule}); n != 2 {
		t.Errorf("prometheus_rule_group_rules = %v, want 2", n)
	}
	if n := gathered(t, re.reg, "mirador_metrics_rule_alert_changes_total", map[string]string{"tenant": "default", "status": "resolved"}); n != 1 {
		t.Errorf("resolved changes counted %v, want 1", n)
	}
}

// gathered returns the value of the counter or gauge name with exactly
// the labels want.
func gathered(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if sameMap(got, want) {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s%v gathered", name, want)
	return 0
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestNotifyPassesOnChangesOnly feeds the NotifyFunc what Prometheus sends
// over time (new alerts, resends every ResendDelay, resolved alerts for 15
// minutes) and checks that only changes reach the sink.
func TestNotifyPassesOnChangesOnly(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ls := func(instance string) labels.Labels {
		return labels.FromStrings("alertname", "Down", "instance", instance)
	}
	firing := func(instance string) *rules.Alert {
		return &rules.Alert{State: rules.StateFiring, Labels: ls(instance), Annotations: labels.FromStrings("summary", instance+" down"), FiredAt: t0}
	}
	pending := func(instance string) *rules.Alert {
		return &rules.Alert{State: rules.StatePending, Labels: ls(instance)}
	}
	resolved := func(instance string) *rules.Alert {
		return &rules.Alert{State: rules.StateInactive, Labels: ls(instance), Annotations: labels.FromStrings("summary", instance+" down"), FiredAt: t0, ResolvedAt: t0.Add(time.Hour)}
	}
	groupA := promql.NewOriginContext(context.Background(), map[string]any{"ruleGroup": map[string]string{"file": "a.yml", "name": "A"}})
	groupB := promql.NewOriginContext(context.Background(), map[string]any{"ruleGroup": map[string]string{"file": "b.yml", "name": "B"}})
	type send struct {
		ctx    context.Context
		alerts []*rules.Alert
		want   []string // status instance rule
	}
	for _, tc := range []struct {
		name  string
		sends []send
	}{
		{"firing once, then resolved once", []send{
			{groupA, []*rules.Alert{firing("a")}, []string{"firing a a.yml;A"}},
			{groupA, []*rules.Alert{firing("a")}, nil},
			{groupA, []*rules.Alert{resolved("a")}, []string{"resolved a a.yml;A"}},
			{groupA, []*rules.Alert{resolved("a")}, nil},
		}},
		{"pending is never sent", []send{
			{groupA, []*rules.Alert{pending("a")}, nil},
			{groupA, []*rules.Alert{resolved("a")}, nil},
		}},
		{"fires again after resolving", []send{
			{groupA, []*rules.Alert{firing("a")}, []string{"firing a a.yml;A"}},
			{groupA, []*rules.Alert{resolved("a")}, []string{"resolved a a.yml;A"}},
			{groupA, []*rules.Alert{firing("a")}, []string{"firing a a.yml;A"}},
		}},
		{"one call per evaluation with only the changes", []send{
			{groupA, []*rules.Alert{firing("a")}, []string{"firing a a.yml;A"}},
			{groupA, []*rules.Alert{firing("a"), firing("b"), pending("c")}, []string{"firing b a.yml;A"}},
			{groupA, []*rules.Alert{resolved("a"), firing("b"), firing("c")}, []string{"resolved a a.yml;A", "firing c a.yml;A"}},
		}},
		{"same labels from two groups are two alerts", []send{
			{groupA, []*rules.Alert{firing("a")}, []string{"firing a a.yml;A"}},
			{groupB, []*rules.Alert{firing("a")}, []string{"firing a b.yml;B"}},
			{groupB, []*rules.Alert{resolved("a")}, []string{"resolved a b.yml;B"}},
			{groupA, []*rules.Alert{firing("a")}, nil},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]Alert
			r := newTestRuleRunner(func(_ context.Context, _ string, alerts []Alert) error { got = append(got, alerts); return nil })
			for i, s := range tc.sends {
				got = nil
				r.notify(s.ctx, "up == 0", s.alerts...)
				if len(s.want) == 0 {
					if len(got) != 0 {
						t.Errorf("send %d: sink called with %+v, want no call", i, got)
					}
					continue
				}
				if len(got) != 1 {
					t.Fatalf("send %d: sink called %d times, want once", i, len(got))
				}
				var desc []string
				for _, a := range got[0] {
					desc = append(desc, a.Status+" "+a.Labels["instance"]+" "+a.Rule)
					if a.Status == "resolved" && a.EndsAt.IsZero() || a.Status == "firing" && !a.EndsAt.IsZero() {
						t.Errorf("send %d: %s with EndsAt %v", i, a.Status, a.EndsAt)
					}
				}
				if strings.Join(desc, ", ") != strings.Join(s.want, ", ") {
					t.Errorf("send %d: got %q, want %q", i, desc, s.want)
				}
			}
		})
	}
}

// A failed publish (no such topic) leaves the change to be offered again
// at Prometheus's next send.
func TestAlertsTheSinkRefusesAreOfferedAgain(t *testing.T) {
	ls := labels.FromStrings("alertname", "Down", "instance", "a")
	firing := &rules.Alert{State: rules.StateFiring, Labels: ls, FiredAt: time.Now()}
	resolved := &rules.Alert{State: rules.StateInactive, Labels: ls, FiredAt: time.Now(), ResolvedAt: time.Now()}
	fail := true
	var got []string
	r := newTestRuleRunner(func(_ context.Context, _ string, alerts []Alert) error {
		if fail {
			return errors.New("topic not found")
		}
		for _, a := range alerts {
			got = append(got, a.Status)
		}
		return nil
	})
	ctx := context.Background()
	r.notify(ctx, "up == 0", firing) // refused
	fail = false
	r.notify(ctx, "up == 0", firing) // the resend a minute later
	fail = true
	r.notify(ctx, "up == 0", resolved) // refused
	fail = false
	r.notify(ctx, "up == 0", resolved) // resent while resolved
	r.notify(ctx, "up == 0", resolved)
	if strings.Join(got, " ") != "firing resolved" {
		t.Errorf("sink got %v, want firing then resolved once each", got)
	}
}

func newTestRuleRunner(sink AlertSink) *ruleRunner {
	return &ruleRunner{
		tenant: tenant.Default, sink: sink, externalURL: "http://mirador/prometheus",
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "changes"}, []string{"status"}),
		firing:  map[alertKey]firingAlert{},
	}
}

func TestReloadRules(t *testing.T) {
	re, err := openRuleEngine(t, shopRules)
	if err != nil {
		t.Fatal(err)
	}
	re.setQueueDepth(t, 9)
	if changes := re.waitChanges(t, 1); len(changes) != 1 || changes[0].Status != "firing" {
		t.Fatalf("changes %+v, want one firing", changes)
	}

	// A broken file is refused with its line; the rules keep running.
	re.writeRules(t, shopRules+"  - alert: Broken\n    expr: sum(\n")
	err = re.ReloadRules(context.Background())
	if err == nil || !strings.Contains(err.Error(), "shop.rules.yml") || !strings.Contains(err.Error(), "13:11") {
		t.Errorf("ReloadRules of a broken file: %v, want an error naming the file and line", err)
	}
	if g := re.rules.manager.RuleGroups(); len(g) != 1 || len(g[0].Rules()) != 2 {
		t.Errorf("after a failed reload: %d groups", len(g))
	}

	// Changing the group keeps the firing alert without notifying it again.
	re.writeRules(t, shopRules+"  - record: shop:queue_depth:min\n    expr: min(queue_depth)\n")
	if err := re.ReloadRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	if changes := re.waitChanges(t, 1); len(changes) != 1 {
		t.Errorf("after adding a rule: changes %+v, want the one firing still", changes)
	}

	// Removing the alerting rule resolves its alert.
	re.writeRules(t, "groups:\n- name: shop\n  rules:\n  - record: shop:queue_depth:max\n    expr: max(queue_depth)\n")
	if err := re.ReloadRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	changes := re.waitChanges(t, 2)
	if len(changes) != 2 || changes[1].Status != "resolved" || changes[1].Fingerprint != changes[0].Fingerprint || changes[1].EndsAt.IsZero() {
		t.Errorf("after removing the alerting rule: changes %+v, want firing then resolved", changes)
	}
}

func TestInvalidRuleFileFailsOpenNamingFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, rules, line string }{
		{"bad PromQL", "groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: max(\n", "5:11"},
		{"YAML syntax", "groups:\n- name: x\n  rules: [\n", "line 3"},
		// Prometheus has no position for this one; it names group and rule.
		{"neither record nor alert", "groups:\n- name: x\n  rules:\n  - expr: up\n", `group "x", rule 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openRuleEngine(t, tc.rules)
			if err == nil || !strings.Contains(err.Error(), "shop.rules.yml") || !strings.Contains(err.Error(), tc.line) {
				t.Errorf("Open: %v, want an error naming shop.rules.yml and %q", err, tc.line)
			}
		})
	}
}

// TestRuleEnginesWithFreshRegistries: Prometheus's rule metrics are
// registered per Engine, not globally, so a second Engine in the process
// (tests, a restart in place) does not panic.
func TestRuleEnginesWithFreshRegistries(t *testing.T) {
	for range 2 {
		if _, err := openRuleEngine(t, shopRules); err != nil {
			t.Fatal(err)
		}
	}
}
