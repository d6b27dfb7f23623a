package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/alarms/eval"
	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/metrics"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/envelope"
	"github.com/miradorhq/mirador/internal/notify/safeurl"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// hook records webhook deliveries.
type hook struct {
	mu       sync.Mutex
	envs     []envelope.Envelope
	arrivals map[string]time.Time // by message id
	srv      *httptest.Server
}

func (h *hook) arrival(id string) time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.arrivals[id] }

func newHook(t *testing.T) *hook {
	h := &hook{arrivals: map[string]time.Time{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var env envelope.Envelope
		_ = json.Unmarshal(b, &env)
		h.mu.Lock()
		h.envs = append(h.envs, env)
		h.arrivals[env.MessageID] = time.Now()
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.envs) }

func (h *hook) wait(t *testing.T, n int) []envelope.Envelope {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("webhook got %d messages, want %d", h.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]envelope.Envelope(nil), h.envs...)
}

// alarmMessage decodes the CloudWatch-shaped message of an envelope.
func alarmMessage(t *testing.T, env envelope.Envelope) snsMessage {
	t.Helper()
	var m snsMessage
	if err := json.Unmarshal([]byte(env.Message), &m); err != nil {
		t.Fatalf("message %q: %v", env.Message, err)
	}
	return m
}

func alarmMessageOf(msg string) (m snsMessage) {
	_ = json.Unmarshal([]byte(msg), &m)
	return m
}

type harness struct {
	t       *testing.T
	dir     string
	clock   *clock
	meta    *meta.Store
	metrics *metrics.Engine
	events  *eventstore.Store
	notify  *notify.Service
	svc     *Service
	hook    *hook
	stop    func()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), clock: &clock{t: time.Now().Truncate(time.Minute).Add(-30 * time.Minute)}}
	ctx := context.Background()
	var err error
	if h.meta, err = meta.Open(ctx, meta.Options{DSN: filepath.Join(h.dir, "meta.db")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.meta.DB().Exec(`INSERT INTO tenants (id, created_at) VALUES ('acme', 1)`); err != nil {
		t.Fatal(err)
	}
	if h.metrics, err = metrics.Open(ctx, metrics.Options{Dir: filepath.Join(h.dir, "metrics"), RetentionTime: 30 * 24 * time.Hour, OutOfOrderWindow: 24 * time.Hour, QueryTimeout: time.Minute, QueryMaxSamples: 50_000_000, QueryMaxConcurrency: 4, LookbackDelta: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if h.events, err = eventstore.Open(ctx, eventstore.Options{Dir: filepath.Join(h.dir, "events")}); err != nil {
		t.Fatal(err)
	}
	h.hook = newHook(t)
	h.start()
	t.Cleanup(func() {
		h.stop()
		h.events.Close()
		h.metrics.Close()
		h.meta.Close()
	})
	ctx2 := context.Background()
	if _, err := h.notify.PutTopic(ctx2, "acme", notify.Topic{Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.notify.Subscribe(ctx2, "acme", "ops", notify.Subscription{Protocol: notify.ProtocolWebhook, Endpoint: h.hook.srv.URL}); err != nil {
		t.Fatal(err)
	}
	return h
}

// start (re)creates the notify and alarm services over the same stores,
// as a restarted server does.
func (h *harness) start() {
	client := channel.NewHTTPClient(safeurl.Policy{AllowPrivate: true}, 5*time.Second)
	h.notify = notify.New(notify.Options{
		DB: h.meta.DB(), Senders: map[string]channel.Sender{notify.ProtocolWebhook: channel.Webhook{Client: client}},
		URLPolicy: safeurl.Policy{AllowPrivate: true}, PollInterval: 10 * time.Millisecond,
	})
	h.svc = New(Options{DB: h.meta.DB(), Notify: h.notify, Metrics: h.metrics, History: h.events, Now: h.clock.Now, PublicURL: "http://mirador.test"})
	if err := h.svc.Load(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.notify.Run(ctx); close(done) }()
	h.stop = func() { cancel(); <-done }
}

// sample appends one sample of cpu{host="a"} at t.
func (h *harness) sample(t time.Time, v float64) {
	h.t.Helper()
	app, err := h.metrics.Appender(context.Background(), "acme")
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := app.Append(0, labels.FromStrings("__name__", "cpu", "host", "a", "namespace", "Hosts"), 0, t.UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
		h.t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		h.t.Fatal(err)
	}
}

// round advances the clock to t and evaluates every alarm due.
func (h *harness) round(t time.Time) {
	h.clock.Set(t)
	h.svc.Round(context.Background())
}

func (h *harness) state(name string) Status {
	h.t.Helper()
	st, err := h.svc.Get(context.Background(), "acme", name)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func cpuAlarm(name string) Alarm {
	return Alarm{
		Name: name, Query: `max(cpu{host="a"})`, PeriodSeconds: 60, EvaluationPeriods: 2, DatapointsToAlarm: 2,
		ComparisonOperator: eval.GreaterThan, Threshold: 90, TreatMissingData: eval.Missing,
		AlarmActions: []string{"ops"}, OKActions: []string{"ops"},
	}
}

func TestMetricAlarmGoesToAlarmAndBackAndNotifies(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	t0 := h.clock.Now()
	if _, created, err := h.svc.Put(ctx, "acme", cpuAlarm("cpu-high")); err != nil || !created {
		t.Fatalf("put: %v (created %v)", err, created)
	}
	if st := h.state("cpu-high"); st.State != eval.InsufficientData || st.StateReason != "Unchecked: Initial alarm creation" {
		t.Fatalf("new alarm: %s %q", st.State, st.StateReason)
	}
	// Healthy for 3 minutes, then 2 breaching minutes, then healthy again.
	for i, v := range []float64{10, 20, 30, 95, 97, 10, 12} {
		h.sample(t0.Add(time.Duration(i)*time.Minute+30*time.Second), v)
	}
	h.round(t0.Add(3*time.Minute + 20*time.Second))
	if st := h.state("cpu-high"); st.State != eval.OK {
		t.Fatalf("after healthy minutes: %s (%s; error %q)", st.State, st.StateReason, st.EvaluationError)
	}
	h.round(t0.Add(4*time.Minute + 20*time.Second))
	if st := h.state("cpu-high"); st.State != eval.OK {
		t.Fatalf("one breaching datapoint of the 2 needed: %s", st.State)
	}
	h.round(t0.Add(5*time.Minute + 20*time.Second))
	st := h.state("cpu-high")
	if st.State != eval.Alarm || !strings.Contains(st.StateReason, "2 out of the last 2 datapoints") {
		t.Fatalf("after two breaching minutes: %s %q", st.State, st.StateReason)
	}
	h.round(t0.Add(7*time.Minute + 20*time.Second))
	if st := h.state("cpu-high"); st.State != eval.OK {
		t.Fatalf("after recovery: %s", st.State)
	}
	envs := h.hook.wait(t, 3) // INSUFFICIENT_DATA→OK, OK→ALARM, ALARM→OK
	var got []string
	for _, env := range envs {
		m := alarmMessage(t, env)
		got = append(got, string(m.OldStateValue)+"→"+string(m.NewStateValue))
		if m.AlarmName != "cpu-high" || m.AlarmArn != h.svc.ARN("cpu-high") || m.Trigger == nil || m.Trigger.Threshold != 90 || m.Trigger.Period != 60 {
			t.Errorf("message %+v", m)
		}
	}
	if strings.Join(got, " ") != "INSUFFICIENT_DATA→OK OK→ALARM ALARM→OK" {
		t.Errorf("notifications %v", got)
	}
	if envs[1].Subject != `ALARM: "cpu-high"` {
		t.Errorf("subject %q", envs[1].Subject)
	}

	// The history has every state change and action.
	items, err := h.svc.History(ctx, "acme", HistoryRequest{AlarmName: "cpu-high", ItemType: HistoryStateUpdate})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].HistorySummary != "Alarm updated from ALARM to OK" || items[2].HistorySummary != "Alarm updated from INSUFFICIENT_DATA to OK" {
		t.Errorf("state history %+v", items)
	}
	res, err := h.svc.QueryHistory(ctx, "acme", `filter historyItemType = "Action" | stats count(*) as n`, nil, time.Time{}, time.Time{})
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != int64(3) {
		t.Errorf("Insights over the history: %v %+v", err, res)
	}
}

func TestRestartNeitherRepeatsNorLosesTransitions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	t0 := h.clock.Now()
	a := cpuAlarm("cpu-high")
	a.OKActions = nil
	if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		h.sample(t0.Add(time.Duration(i)*time.Minute+30*time.Second), 99)
	}
	h.round(t0.Add(3*time.Minute + 20*time.Second))
	h.hook.wait(t, 1)

	// A restarted server re-evaluates from the stored state.
	h.stop()
	h.start()
	if st := h.state("cpu-high"); st.State != eval.Alarm {
		t.Fatalf("state after restart: %s", st.State)
	}
	h.round(t0.Add(4*time.Minute + 20*time.Second))
	time.Sleep(100 * time.Millisecond)
	ids := map[string]bool{}
	for _, env := range h.hook.wait(t, 1) {
		ids[env.MessageID] = true
	}
	if len(ids) != 1 {
		t.Errorf("%d distinct notifications after a restart, want the 1 from before", len(ids))
	}
}

func TestCompositeAlarmFollowsItsChildrenAndRefusesCycles(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, _, err := h.svc.Put(ctx, "acme", cpuAlarm("cpu")); err != nil {
		t.Fatal(err)
	}
	mem := cpuAlarm("mem")
	mem.AlarmActions, mem.OKActions = nil, nil
	if _, _, err := h.svc.Put(ctx, "acme", mem); err != nil {
		t.Fatal(err)
	}
	both := Alarm{Name: "both", Rule: `ALARM(cpu) AND NOT OK("mem")`, AlarmActions: []string{"ops"}}
	if st, _, err := h.svc.Put(ctx, "acme", both); err != nil || st.Kind != KindComposite {
		t.Fatalf("put composite: %v %+v", err, st)
	}
	set := func(name string, s eval.State) {
		if _, err := h.svc.SetState(ctx, "acme", name, s, "test", nil); err != nil {
			t.Fatal(err)
		}
		h.svc.evaluateComposites(ctx, h.clock.Now())
	}
	set("cpu", eval.Alarm)
	set("mem", eval.OK)
	if st := h.state("both"); st.State != eval.OK {
		t.Fatalf("cpu ALARM, mem OK: %s", st.State)
	}
	set("mem", eval.Alarm)
	if st := h.state("both"); st.State != eval.Alarm || !strings.Contains(st.StateReason, "TRUE") {
		t.Fatalf("cpu and mem in ALARM: %s %q", st.State, st.StateReason)
	}
	if _, _, err := h.svc.Put(ctx, "acme", Alarm{Name: "outer", Rule: "ALARM(both) OR ALARM(cpu)"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := h.svc.Put(ctx, "acme", Alarm{Name: "both", Rule: "ALARM(outer)"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a cycle: %v", err)
	}
	if _, _, err := h.svc.Put(ctx, "acme", Alarm{Name: "bad", Rule: "ALARM(cpu) AND"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a bad rule: %v", err)
	}
}

func TestMuteWindowHoldsActionsAndKeepsHistory(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := cpuAlarm("db-cpu")
	a.Labels = map[string]string{"team": "db"}
	if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
		t.Fatal(err)
	}
	m, err := h.svc.PutMute(ctx, "acme", MuteWindow{Labels: map[string]string{"team": "db"}, EndsAt: h.clock.Now().Add(time.Hour), Reason: "maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.SetState(ctx, "acme", "db-cpu", eval.Alarm, "test", nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := h.hook.count(); n != 0 {
		t.Fatalf("%d notifications while muted", n)
	}
	items, _ := h.svc.History(ctx, "acme", HistoryRequest{AlarmName: "db-cpu", ItemType: HistoryAction})
	if len(items) != 1 || !strings.Contains(items[0].HistorySummary, "muted by mute window "+m.ID) {
		t.Errorf("history %+v", items)
	}
	// When the window ends, the state the actions missed is notified.
	if err := h.svc.DeleteMute(ctx, "acme", m.ID); err != nil {
		t.Fatal(err)
	}
	e, _ := h.svc.lookup("acme", "db-cpu")
	e.mu.Lock()
	err = h.svc.transition(ctx, e, eval.Alarm, "still", nil, h.clock.Now())
	e.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if m := alarmMessage(t, h.hook.wait(t, 1)[0]); m.NewStateValue != eval.Alarm {
		t.Errorf("after the mute: %+v", m)
	}
}

func TestFlappingHoldsNotificationsAndSaysSo(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := cpuAlarm("flappy")
	a.Flapping = &Flapping{MaxTransitions: 3, WindowSeconds: 3600}
	if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
		t.Fatal(err)
	}
	for i, s := range []eval.State{eval.Alarm, eval.OK, eval.Alarm, eval.OK, eval.Alarm, eval.OK} {
		h.clock.Set(h.clock.Now().Add(time.Minute))
		if _, err := h.svc.SetState(ctx, "acme", "flappy", s, "flip "+string(rune('0'+i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	envs := h.hook.wait(t, 4)
	time.Sleep(100 * time.Millisecond)
	if n := h.hook.count(); n != 4 {
		t.Fatalf("%d notifications, want 3 transitions and 1 flapping notice", n)
	}
	m := alarmMessage(t, envs[3])
	if !strings.HasPrefix(envs[3].Subject, "FLAPPING") || m.Mirador == nil || !m.Mirador.Flapping || !strings.Contains(m.NewStateReason, "flapping") {
		t.Errorf("flapping notice: %q %+v", envs[3].Subject, m)
	}
	if st := h.state("flappy"); !st.Flapping {
		t.Error("status does not say flapping")
	}
}

func TestRepeatIntervalRemindsWhileInAlarm(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := cpuAlarm("sticky")
	a.RepeatIntervalSeconds = 600
	if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.SetState(ctx, "acme", "sticky", eval.Alarm, "test", nil); err != nil {
		t.Fatal(err)
	}
	e, _ := h.svc.lookup("acme", "sticky")
	for _, after := range []time.Duration{5 * time.Minute, 11 * time.Minute, 15 * time.Minute} {
		e.mu.Lock()
		if err := h.svc.transition(ctx, e, eval.Alarm, "still", nil, h.clock.Now().Add(after)); err != nil {
			t.Fatal(err)
		}
		e.mu.Unlock()
	}
	envs := h.hook.wait(t, 2)
	time.Sleep(100 * time.Millisecond)
	if h.hook.count() != 2 || !strings.HasPrefix(envs[1].Subject, "STILL ALARM") {
		t.Errorf("%d notifications (%q), want the transition and one reminder", h.hook.count(), envs[len(envs)-1].Subject)
	}
}

func TestMetricStatMapsToPromQL(t *testing.T) {
	for stat, want := range map[string]string{
		"Sum":         `sum(sum_over_time({__name__="cpu", namespace="Hosts", host="a"}[300s]))`,
		"Average":     `sum(sum_over_time({__name__="cpu", namespace="Hosts", host="a"}[300s])) / sum(count_over_time({__name__="cpu", namespace="Hosts", host="a"}[300s]))`,
		"Maximum":     `max(max_over_time({__name__="cpu", namespace="Hosts", host="a"}[300s]))`,
		"SampleCount": `sum(count_over_time({__name__="cpu", namespace="Hosts", host="a"}[300s]))`,
		"p99":         `max(quantile_over_time(0.99, {__name__="cpu", namespace="Hosts", host="a"}[300s]))`,
	} {
		a := Alarm{Metric: &MetricStat{Namespace: "Hosts", MetricName: "cpu", Dimensions: map[string]string{"host": "a"}, Statistic: stat}, PeriodSeconds: 300}
		if got := a.Expr(); got != want {
			t.Errorf("%s: %s, want %s", stat, got, want)
		}
	}
}

func TestMetricStatAlarmEvaluatesAverage(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	t0 := h.clock.Now()
	a := Alarm{Name: "avg", Metric: &MetricStat{Namespace: "Hosts", MetricName: "cpu", Dimensions: map[string]string{"host": "a"}, Statistic: "Average"},
		PeriodSeconds: 60, EvaluationPeriods: 1, ComparisonOperator: eval.GreaterThanOrEqual, Threshold: 50}
	if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		at time.Duration
		v  float64
	}{{10 * time.Second, 40}, {30 * time.Second, 60}, {50 * time.Second, 80}} {
		h.sample(t0.Add(s.at), s.v)
	}
	h.round(t0.Add(time.Minute + 20*time.Second))
	st := h.state("avg")
	if st.State != eval.Alarm || !strings.Contains(st.StateReason, "[60.0 (") {
		t.Errorf("average of 40, 60, 80: %s %q", st.State, st.StateReason)
	}
}

func TestValidationNamesTheField(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		a    Alarm
		want string
	}{
		{Alarm{Name: "x", Query: "up", PeriodSeconds: 45, EvaluationPeriods: 1, ComparisonOperator: eval.GreaterThan}, "periodSeconds"},
		{Alarm{Name: "x", Query: "up{", PeriodSeconds: 60, EvaluationPeriods: 1, ComparisonOperator: eval.GreaterThan}, "query"},
		{Alarm{Name: "x", Query: "up", PeriodSeconds: 60, EvaluationPeriods: 1, ComparisonOperator: eval.OutsideBand}, "anomalyBand"},
		{Alarm{Name: "x", Query: "up", PeriodSeconds: 60, EvaluationPeriods: 2, DatapointsToAlarm: 3, ComparisonOperator: eval.GreaterThan}, "DatapointsToAlarm"},
		{Alarm{Name: "x", Metric: &MetricStat{MetricName: "cpu", Statistic: "Median"}, PeriodSeconds: 60, EvaluationPeriods: 1, ComparisonOperator: eval.GreaterThan}, "metric.statistic"},
		{Alarm{Name: "x", Query: "up", PeriodSeconds: 60, EvaluationPeriods: 1, ComparisonOperator: eval.GreaterThan, AlarmActions: []string{"no such topic!"}}, "alarmActions[0]"},
	} {
		_, _, err := h.svc.Put(context.Background(), "acme", c.a)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.a, err, c.want)
		}
	}
}

func TestAnomalyBandAlarmAndSeries(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	now := h.clock.Now()
	// Three days of a noisy daily cycle, one sample a minute, then a spike.
	rnd := rand.New(rand.NewPCG(1, 2))
	start := now.Add(-72 * time.Hour)
	app, _ := h.metrics.Appender(ctx, "acme")
	ls := labels.FromStrings("__name__", "rps")
	for ts := start; ts.Before(now); ts = ts.Add(time.Minute) {
		hour := float64(ts.Hour()) + float64(ts.Minute())/60
		v := (100 + 50*math.Sin(2*math.Pi*hour/24)) * (1 + 0.1*rnd.NormFloat64())
		if _, err := app.Append(0, ls, 0, ts.UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	a := Alarm{Name: "rps-anomaly", Query: "rps", PeriodSeconds: 60, EvaluationPeriods: 1,
		ComparisonOperator: eval.OutsideBand, AnomalyBand: &AnomalyBand{StdDevs: 3}, AlarmActions: []string{"ops"}}
	if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
		t.Fatal(err)
	}
	h.round(now.Add(20 * time.Second))
	if st := h.state("rps-anomaly"); st.State != eval.OK {
		t.Fatalf("normal traffic: %s %q %s", st.State, st.StateReason, st.EvaluationError)
	}
	h.sample2(ls, now.Add(30*time.Second), 1000)
	h.round(now.Add(time.Minute + 20*time.Second))
	if st := h.state("rps-anomaly"); st.State != eval.Alarm {
		t.Fatalf("a spike to 1000: %s %q", st.State, st.StateReason)
	}
	mx, err := h.metrics.QueryRange(ctx, "acme", BandUpperMetric+`{alarm="rps-anomaly"}`, now, now.Add(time.Minute), time.Minute)
	if err != nil || len(mx) != 1 || len(mx[0].Floats) == 0 || mx[0].Floats[0].F <= 0 || mx[0].Floats[0].F >= 1000 {
		t.Errorf("band series: %v %v", err, mx)
	}
}

func (h *harness) sample2(ls labels.Labels, t time.Time, v float64) {
	app, _ := h.metrics.Appender(context.Background(), "acme")
	if _, err := app.Append(0, ls, 0, t.UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
		h.t.Fatal(err)
	}
	_ = app.Commit()
}

// After downtime only the current state is evaluated: an outage that
// breached and recovered while the server was down sends nothing, and one
// still breaching sends one notification, not one per missed minute.
func TestCatchUpAfterDowntimeSendsNoStaleStorm(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	t0 := h.clock.Now()
	for _, name := range []string{"recovered", "still-bad"} {
		a := cpuAlarm(name)
		a.EvaluationPeriods, a.DatapointsToAlarm = 1, 1
		a.Query = `max(cpu{host="` + name + `"})`
		if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
			t.Fatal(err)
		}
	}
	at := func(host string, minute int, v float64) {
		app, _ := h.metrics.Appender(ctx, "acme")
		if _, err := app.Append(0, labels.FromStrings("__name__", "cpu", "host", host), 0, t0.Add(time.Duration(minute)*time.Minute+30*time.Second).UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
			t.Fatal(err)
		}
		_ = app.Commit()
	}
	at("recovered", 0, 10)
	at("still-bad", 0, 10)
	h.round(t0.Add(time.Minute + 20*time.Second)) // both OK (no OK notification: INSUFFICIENT_DATA → OK is one each)
	base := len(h.hook.wait(t, 2))

	h.stop() // down for ten minutes, during which both breach
	for m := 1; m <= 10; m++ {
		at("still-bad", m, 99)
		v := 99.0
		if m >= 9 {
			v = 10
		}
		at("recovered", m, v)
	}
	h.start()
	h.clock.Set(t0.Add(11*time.Minute + 20*time.Second))
	if n := h.svc.Round(ctx); n != 2 {
		t.Fatalf("first round after restart evaluated %d alarms, want each once", n)
	}
	h.svc.Round(ctx) // nothing more is due in the same minute
	envs := h.hook.wait(t, base+1)
	time.Sleep(100 * time.Millisecond)
	if got := h.hook.count() - base; got != 1 {
		t.Fatalf("%d notifications after the downtime, want 1", got)
	}
	if m := alarmMessage(t, envs[base]); m.AlarmName != "still-bad" || m.NewStateValue != eval.Alarm {
		t.Errorf("notification %+v, want still-bad entering ALARM", m)
	}
	if st := h.state("recovered"); st.State != eval.OK {
		t.Errorf("recovered: %s", st.State)
	}
}

// The evaluator and the API work on the same alarms at once without a
// data race or a deadlock (run with -race).
func TestEvaluatorAndAPIConcurrently(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.svc.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				name := fmt.Sprintf("a%d", (w+i)%5)
				switch i % 5 {
				case 0, 1:
					_, _, _ = h.svc.Put(ctx, "acme", cpuAlarm(name))
				case 2:
					_, _ = h.svc.SetState(ctx, "acme", name, eval.Alarm, "test", nil)
				case 3:
					_ = h.svc.List(ctx, "acme", ListFilter{})
					_, _, _ = h.svc.Put(ctx, "acme", Alarm{Name: "c" + name, Rule: "ALARM(" + name + ")"})
				case 4:
					_ = h.svc.Delete(ctx, "acme", name)
				}
				h.clock.Set(h.clock.Now().Add(7 * time.Second))
			}
		}()
	}
	wg.Wait()
	cancel()
	<-done
}
