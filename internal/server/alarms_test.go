package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"

	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/notify/envelope"
)

// webhookReceiver is an HTTP endpoint that verifies each delivery's
// signature with the subscription's secret, as a receiver should.
type webhookReceiver struct {
	mu       sync.Mutex
	secret   []byte
	got      []envelope.Envelope
	badSigs  int
	srv      *httptest.Server
	received chan struct{}
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	r := &webhookReceiver{received: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env envelope.Envelope
		if err := json.Unmarshal(body, &env); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		if env.Verify(r.secret, time.Minute, time.Now()) != nil || req.Header.Get(envelope.SignatureHeader) != env.Signature {
			r.badSigs++
		}
		r.got = append(r.got, env)
		r.mu.Unlock()
		r.received <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *webhookReceiver) envelopes() []envelope.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]envelope.Envelope(nil), r.got...)
}

// apiJSON sends a JSON request and decodes the envelope's data into out.
func (c client) apiJSON(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	status, resp := c.do(t, method, path, rd, http.Header{"Content-Type": {"application/json"}})
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, resp, want)
	}
	if out != nil {
		var env struct{ Data json.RawMessage }
		if err := json.Unmarshal(resp, &env); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(env.Data, out); err != nil {
			t.Fatalf("%s: %v", env.Data, err)
		}
	}
}

// subscribeWebhook creates topic and a webhook subscription to r, and
// gives r the subscription's secret.
func subscribeWebhook(t *testing.T, c client, topic string, r *webhookReceiver) {
	t.Helper()
	c.apiJSON(t, "PUT", "/api/v1/topics/"+topic, nil, http.StatusOK, nil)
	var sub struct{ Secret string }
	c.apiJSON(t, "POST", "/api/v1/topics/"+topic+"/subscriptions", map[string]any{"protocol": "webhook", "endpoint": r.srv.URL}, http.StatusCreated, &sub)
	r.mu.Lock()
	r.secret = []byte(sub.Secret)
	r.mu.Unlock()
}

type alarmNotification struct {
	AlarmName, NewStateValue, OldStateValue, NewStateReason string
}

func TestRemoteWriteDrivesAnAlarmThroughOKAlarmOK(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	rcv := newWebhookReceiver(t)
	subscribeWebhook(t, c, "oncall", rcv)

	rw := remoteWriteClient(t, s, "", remoteapi.WriteV1MessageType)
	push := func(v float64) { // one sample a second, as a scrape would
		if _, err := rw.Store(context.Background(), writeRequest(t, timeSeries("checkout_latency_seconds", v, time.Now(), "service", "checkout")), 0); err != nil {
			t.Fatal(err)
		}
	}
	push(0.1)
	alarm := map[string]any{
		"query": `max(checkout_latency_seconds{service="checkout"})`, "periodSeconds": 10,
		"evaluationPeriods": 1, "comparisonOperator": "GreaterThanThreshold", "threshold": 2,
		"alarmActions": []string{"oncall"}, "okActions": []string{"oncall"},
	}
	c.apiJSON(t, "PUT", "/api/v1/alarms/checkout-slow", alarm, http.StatusCreated, nil)

	var states []string
	waitFor := func(state string) {
		t.Helper()
		deadline := time.After(45 * time.Second)
		for {
			select {
			case <-rcv.received:
				envs := rcv.envelopes()
				var m alarmNotification
				if err := json.Unmarshal([]byte(envs[len(envs)-1].Message), &m); err != nil {
					t.Fatal(err)
				}
				states = append(states, m.OldStateValue+"→"+m.NewStateValue)
				if m.NewStateValue == state {
					return
				}
			case <-time.After(time.Second):
				push(map[string]float64{"OK": 0.1, "ALARM": 5}[state])
			case <-deadline:
				t.Fatalf("no %s notification in 45s; got %v", state, states)
			}
		}
	}
	waitFor("OK")
	waitFor("ALARM")
	waitFor("OK")
	if strings.Join(states, " ") != "INSUFFICIENT_DATA→OK OK→ALARM ALARM→OK" {
		t.Errorf("notifications %v", states)
	}
	envs := rcv.envelopes()
	rcv.mu.Lock()
	bad := rcv.badSigs
	rcv.mu.Unlock()
	if bad != 0 {
		t.Errorf("%d deliveries failed signature verification", bad)
	}
	ids := map[string]bool{}
	for _, e := range envs {
		ids[e.MessageID] = true
	}
	if len(ids) != len(envs) || envs[1].Subject != `ALARM: "checkout-slow"` {
		t.Errorf("message ids %v, subject %q", ids, envs[1].Subject)
	}

	// Describe, history and deliveries tell the same story.
	var st struct{ State, StateReason string }
	c.apiJSON(t, "GET", "/api/v1/alarms/checkout-slow", nil, http.StatusOK, &st)
	if st.State != "OK" || !strings.Contains(st.StateReason, "was not greater than the threshold (2.0)") {
		t.Errorf("describe: %+v", st)
	}
	var hist struct {
		Items []struct{ HistoryItemType, HistorySummary string }
	}
	c.apiJSON(t, "GET", "/api/v1/alarms/checkout-slow/history?type=StateUpdate", nil, http.StatusOK, &hist)
	if len(hist.Items) != 3 || hist.Items[1].HistorySummary != "Alarm updated from OK to ALARM" {
		t.Errorf("history %+v", hist.Items)
	}
	var ds struct {
		Deliveries []struct {
			State    string
			Attempts []struct{ StatusCode int }
		}
	}
	eventually(t, 10*time.Second, "every delivery recorded", func() bool { // the last attempt is recorded just after the receiver answers
		c.apiJSON(t, "GET", "/api/v1/deliveries?topic=oncall", nil, http.StatusOK, &ds)
		return len(ds.Deliveries) == 3 && ds.Deliveries[0].State == "delivered"
	})
	if len(ds.Deliveries) != 3 || ds.Deliveries[0].State != "delivered" || ds.Deliveries[0].Attempts[0].StatusCode != 200 {
		t.Errorf("deliveries %+v", ds.Deliveries)
	}
}

func TestAlarmAndTopicAPIErrors(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
		says         string
	}{
		{"PUT", "/api/v1/alarms/x", map[string]any{"query": "up{", "periodSeconds": 60, "evaluationPeriods": 1, "comparisonOperator": "GreaterThanThreshold"}, 400, "query"},
		{"PUT", "/api/v1/alarms/x", map[string]any{"query": "up", "periodSeconds": 60, "evaluationPeriods": 1, "comparisonOperator": "Bigger"}, 400, "ComparisonOperator"},
		{"PUT", "/api/v1/alarms/x", map[string]any{"rule": "ALARM(a) AND (", "periodSeconds": 60}, 400, "rule"},
		{"PUT", "/api/v1/alarms/x", map[string]any{"qeury": "up"}, 400, "unknown field"},
		{"GET", "/api/v1/alarms/nope", nil, 404, "not found"},
		{"POST", "/api/v1/alarms/nope/state", map[string]any{"state": "ALARM", "reason": "t"}, 404, "not found"},
		{"POST", "/api/v1/topics/nope/publish", map[string]any{"message": "hi"}, 404, "topic not found"},
		{"PUT", "/api/v1/topics/bad%20name", nil, 400, "names are 1 to 256"},
		{"GET", "/api/v1/subscriptions/confirm?tenant=default&id=x&token=y", nil, 400, "token"},
	} {
		var rd io.Reader
		if tc.body != nil {
			b, _ := json.Marshal(tc.body)
			rd = bytes.NewReader(b)
		}
		status, body := c.do(t, tc.method, tc.path, rd, nil)
		if status != tc.want || !strings.Contains(string(body), tc.says) {
			t.Errorf("%s %s: %d %s, want %d saying %q", tc.method, tc.path, status, body, tc.want, tc.says)
		}
	}
	c.apiJSON(t, "PUT", "/api/v1/topics/ops", nil, http.StatusOK, nil)
	status, body := c.do(t, "POST", "/api/v1/topics/ops/subscriptions", strings.NewReader(`{"protocol":"webhook","endpoint":"http://169.254.169.254/latest"}`), nil)
	if status != 400 || !strings.Contains(string(body), "link-local") {
		t.Errorf("metadata endpoint: %d %s", status, body)
	}
}

func TestPrometheusRuleFileAlertReachesAWebhook(t *testing.T) {
	dir := t.TempDir()
	rules := `groups:
- name: queues
  rules:
  - alert: QueueTooDeep
    expr: max(queue_depth) > 5
    labels: {severity: page, topic: oncall}
    annotations: {summary: 'queue depth is {{ $value }}'}
`
	if err := os.WriteFile(filepath.Join(dir, "queues.rules.yml"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	s := testServerIn(t, dir, "metrics:\n  global: {evaluation_interval: 1s}\n  rule_files: ['*.rules.yml']\n")
	c := client{base: httpBase(s)}
	rcv := newWebhookReceiver(t)
	subscribeWebhook(t, c, "oncall", rcv)
	rw := remoteWriteClient(t, s, "", remoteapi.WriteV1MessageType)
	push := func(v float64) {
		if _, err := rw.Store(context.Background(), writeRequest(t, timeSeries("queue_depth", v, time.Now())), 0); err != nil {
			t.Fatal(err)
		}
	}
	var am struct {
		Status, Receiver string
		Alerts           []struct {
			Status      string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
	await := func(status string, v float64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			push(v)
			select {
			case <-rcv.received:
				envs := rcv.envelopes()
				if err := json.Unmarshal([]byte(envs[len(envs)-1].Message), &am); err != nil {
					t.Fatal(err)
				}
				if am.Status == status {
					return
				}
			case <-time.After(500 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s alert within 20s", status)
			}
		}
	}
	await("firing", 9)
	if am.Receiver != "oncall" || len(am.Alerts) != 1 || am.Alerts[0].Labels["alertname"] != "QueueTooDeep" || am.Alerts[0].Annotations["summary"] != "queue depth is 9" {
		t.Errorf("firing payload %+v", am)
	}
	if status, body := c.get(t, "/prometheus/api/v1/alerts", nil); status != 200 || !contains(body, `"state":"firing"`) {
		t.Errorf("/api/v1/alerts: %d %s", status, body)
	}
	if status, body := c.get(t, "/prometheus/api/v1/rules", nil); status != 200 || !contains(body, `"name":"queues"`) {
		t.Errorf("/api/v1/rules: %d %s", status, body)
	}
	await("resolved", 1)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.badSigs != 0 || len(rcv.got) != 2 {
		t.Errorf("%d messages (%d bad signatures), want firing and resolved once each", len(rcv.got), rcv.badSigs)
	}
}

func TestMetricFilterTurnsLogsIntoASeriesAnAlarmFiresOn(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	rcv := newWebhookReceiver(t)
	subscribeWebhook(t, c, "oncall", rcv)
	c.apiJSON(t, "PUT", "/api/v1/logs/metric-filters/checkout-errors", map[string]any{
		"logGroupName": "checkout", "filterPattern": `{ $.level = "error" }`,
		"metricTransformations": []map[string]any{{"metricName": "checkout_errors", "metricNamespace": "Shop", "metricValue": "1", "defaultValue": 0}},
	}, http.StatusOK, nil)
	status, body := c.do(t, "PUT", "/api/v1/logs/metric-filters/bad", strings.NewReader(`{"logGroupName":"checkout","filterPattern":"{ $.level = ","metricTransformations":[{"metricName":"m","metricNamespace":"N","metricValue":"1"}]}`), nil)
	if status != 400 || !contains(body, "filterPattern") {
		t.Errorf("bad pattern: %d %s", status, body)
	}
	var tested struct{ Matches []struct{ EventNumber int } }
	c.apiJSON(t, "POST", "/api/v1/logs/metric-filters/test", map[string]any{"filterPattern": "ERROR", "logEventMessages": []string{"INFO ok", "ERROR boom"}}, http.StatusOK, &tested)
	if len(tested.Matches) != 1 || tested.Matches[0].EventNumber != 2 {
		t.Errorf("test: %+v", tested)
	}

	// Three errors and a success, 90 s ago: their minute is closed, so the
	// sum is written at the next flush.
	at := time.Now().Add(-90 * time.Second).UTC().Format(time.RFC3339Nano)
	var lines []string
	for _, level := range []string{"error", "info", "error", "error"} {
		lines = append(lines, `{"time":"`+at+`","level":"`+level+`","message":"checkout finished"}`)
	}
	status, body = c.do(t, "POST", "/api/v1/logs/ingest?group=checkout", strings.NewReader(strings.Join(lines, "\n")), http.Header{"Content-Type": {"application/x-ndjson"}})
	if status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	eventually(t, 20*time.Second, "the metric filter's series", func() bool {
		return c.query(t, "checkout_errors")[`checkout_errors{log_group="checkout", metric_filter="checkout-errors", namespace="Shop"}`] == 3
	})

	c.apiJSON(t, "PUT", "/api/v1/alarms/checkout-errors", map[string]any{
		"metric":        map[string]any{"namespace": "Shop", "metricName": "checkout_errors", "statistic": "Sum"},
		"periodSeconds": 60, "evaluationPeriods": 1, "comparisonOperator": "GreaterThanOrEqualToThreshold", "threshold": 3,
		"alarmActions": []string{"oncall"},
	}, http.StatusCreated, nil)
	select {
	case <-rcv.received:
	case <-time.After(20 * time.Second):
		var st map[string]any
		c.apiJSON(t, "GET", "/api/v1/alarms/checkout-errors", nil, http.StatusOK, &st)
		t.Fatalf("no notification; alarm %v", st)
	}
	var m alarmNotification
	if err := json.Unmarshal([]byte(rcv.envelopes()[0].Message), &m); err != nil || m.NewStateValue != "ALARM" || !strings.Contains(m.NewStateReason, "[3.0 (") {
		t.Errorf("notification %+v (%v)", m, err)
	}
}

func TestPublishToALogGroupSubscriptionWithAFilterPolicy(t *testing.T) {
	s := testServer(t, "")
	c := client{base: httpBase(s)}
	c.apiJSON(t, "PUT", "/api/v1/topics/deploys", map[string]any{"displayName": "Deploys"}, http.StatusOK, nil)
	c.apiJSON(t, "POST", "/api/v1/topics/deploys/subscriptions", map[string]any{
		"protocol": "log", "endpoint": "notifications", "filterPolicy": `{"env":["prod"]}`,
	}, http.StatusCreated, nil)
	publish := func(env, msg string) int {
		var out struct{ Deliveries int }
		c.apiJSON(t, "POST", "/api/v1/topics/deploys/publish", map[string]any{
			"subject": "deploy", "message": msg,
			"messageAttributes": map[string]any{"env": map[string]string{"dataType": "String", "stringValue": env}},
		}, http.StatusOK, &out)
		return out.Deliveries
	}
	if n := publish("staging", "v41 to staging"); n != 0 {
		t.Errorf("staging message: %d deliveries, want 0 (filtered out)", n)
	}
	if n := publish("prod", "v42 to prod"); n != 1 {
		t.Errorf("prod message: %d deliveries, want 1", n)
	}
	var res struct{ Rows []map[string]string }
	eventually(t, 10*time.Second, "the notification in the log group", func() bool {
		status, body := c.do(t, "POST", "/api/v1/logs/query", strings.NewReader(`{"query":"fields @message","logGroups":["notifications"]}`), nil)
		_ = json.Unmarshal(body, &res)
		return status == http.StatusOK && len(res.Rows) > 0
	})
	if len(res.Rows) != 1 || !strings.Contains(res.Rows[0]["@message"], `"message":"v42 to prod"`) {
		t.Errorf("log group holds %v", res.Rows)
	}
	status, body := c.do(t, "POST", "/api/v1/topics/deploys/publish", strings.NewReader(`{"message":""}`), nil)
	if status != 400 || !contains(body, "message: must not be empty") {
		t.Errorf("empty message: %d %s", status, body)
	}
}

func TestAlarmsAndTopicsAreIsolatedByTenant(t *testing.T) {
	dir := t.TempDir()
	keys := createKeys(t, dir, map[string]struct {
		tenant string
		scopes []auth.Scope
	}{
		"a":      {tenant: "team-a", scopes: []auth.Scope{auth.ScopeAdmin}},
		"b":      {tenant: "team-b", scopes: []auth.Scope{auth.ScopeAdmin}},
		"reader": {tenant: "team-a", scopes: []auth.Scope{auth.ScopeRead}},
	})
	s := testServerIn(t, dir, "")
	a, b := client{base: httpBase(s), key: keys["a"]}, client{base: httpBase(s), key: keys["b"]}
	reader := client{base: httpBase(s), key: keys["reader"]}
	a.apiJSON(t, "PUT", "/api/v1/topics/oncall", nil, http.StatusOK, nil)
	var sub struct{ ID string }
	a.apiJSON(t, "POST", "/api/v1/topics/oncall/subscriptions", map[string]any{"protocol": "log", "endpoint": "alerts"}, http.StatusCreated, &sub)
	a.apiJSON(t, "PUT", "/api/v1/alarms/secret-alarm", map[string]any{"query": "vector(1)", "periodSeconds": 60, "evaluationPeriods": 1,
		"comparisonOperator": "GreaterThanThreshold", "threshold": 5, "alarmActions": []string{"oncall"}}, http.StatusCreated, nil)

	var list struct{ Alarms []any }
	b.apiJSON(t, "GET", "/api/v1/alarms", nil, http.StatusOK, &list)
	if len(list.Alarms) != 0 {
		t.Errorf("tenant b lists a's alarms: %v", list.Alarms)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/alarms/secret-alarm", ""},
		{"POST", "/api/v1/alarms/secret-alarm/state", `{"state":"ALARM","reason":"x"}`},
		{"GET", "/api/v1/topics/oncall", ""},
		{"POST", "/api/v1/topics/oncall/publish", `{"message":"hi"}`},
		{"POST", "/api/v1/topics/oncall/subscriptions", `{"protocol":"log","endpoint":"steal"}`},
		{"GET", "/api/v1/subscriptions/" + sub.ID, ""},
		{"DELETE", "/api/v1/subscriptions/" + sub.ID, ""},
	} {
		if status, body := b.do(t, c.method, c.path, strings.NewReader(c.body), nil); status != http.StatusNotFound {
			t.Errorf("tenant b: %s %s: %d %s, want 404", c.method, c.path, status, body)
		}
	}
	// A read-only key cannot change alarms or subscriptions.
	if status, _ := reader.do(t, "POST", "/api/v1/alarms/secret-alarm/state", strings.NewReader(`{"state":"ALARM","reason":"x"}`), nil); status != http.StatusForbidden {
		t.Errorf("read key set an alarm's state: %d", status)
	}
	if status, _ := reader.do(t, "PUT", "/api/v1/topics/other", nil, nil); status != http.StatusForbidden {
		t.Errorf("read key created a topic: %d", status)
	}
	if status, _ := (client{base: httpBase(s)}).do(t, "GET", "/api/v1/alarms", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("no key: %d, want 401", status)
	}
}

// Every protocol the docs promise is served: a Slack incoming webhook and
// a PagerDuty Events API endpoint (notify.pagerduty_url) receive an
// alarm's notification from the real server.
func TestSlackAndPagerDutySubscriptionsReceiveAlarms(t *testing.T) {
	type hit struct {
		path string
		body map[string]any
	}
	hits := make(chan hit, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		hits <- hit{r.URL.Path, m}
		if r.URL.Path == "/pagerduty" {
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()
	s := testServer(t, "", "--notify.pagerduty-url", srv.URL+"/pagerduty")
	c := client{base: httpBase(s)}
	c.apiJSON(t, "PUT", "/api/v1/topics/oncall", nil, http.StatusOK, nil)
	c.apiJSON(t, "POST", "/api/v1/topics/oncall/subscriptions", map[string]any{"protocol": "slack", "endpoint": srv.URL + "/slack"}, http.StatusCreated, nil)
	c.apiJSON(t, "POST", "/api/v1/topics/oncall/subscriptions", map[string]any{"protocol": "pagerduty", "endpoint": "R0UT1NGKEY0123456789"}, http.StatusCreated, nil)
	c.apiJSON(t, "PUT", "/api/v1/alarms/db-down", map[string]any{"query": "vector(0)", "periodSeconds": 60, "evaluationPeriods": 1,
		"comparisonOperator": "GreaterThanThreshold", "threshold": 1, "alarmActions": []string{"oncall"}}, http.StatusCreated, nil)
	c.apiJSON(t, "POST", "/api/v1/alarms/db-down/state", map[string]any{"state": "ALARM", "reason": "testing"}, http.StatusOK, nil)
	got := map[string]map[string]any{}
	for len(got) < 2 {
		select {
		case h := <-hits:
			got[h.path] = h.body
		case <-time.After(10 * time.Second):
			t.Fatalf("received %v, want a Slack and a PagerDuty request", got)
		}
	}
	if txt, _ := got["/slack"]["text"].(string); !strings.Contains(txt, "db-down") {
		t.Errorf("Slack payload %v", got["/slack"])
	}
	if pd := got["/pagerduty"]; pd["event_action"] != "trigger" || pd["routing_key"] != "R0UT1NGKEY0123456789" {
		t.Errorf("PagerDuty event %v", pd)
	}
}
