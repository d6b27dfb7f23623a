package alarms

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/alarms/eval"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEvaluationRound evaluates MIRADOR_BENCH_ALARMS (default 10,000)
// metric alarms, each over its own series (max(cpu{host="hN"}), a minute
// period, 3 of 3 datapoints, samples every 15 s), once per iteration, as
// one round of the minute schedule does. It reports the wall and CPU time
// of a round and alarms evaluated per CPU-second.
//
//	go test ./internal/alarms -run '^$' -bench EvaluationRound -benchtime 5x
func BenchmarkEvaluationRound(b *testing.B) { benchmarkRound(b, false) }

// BenchmarkEvaluationRoundAllChange is the worst case: every alarm changes
// state in every round (each change is a state write, an outbox row for a
// webhook subscription and a history record).
//
//	go test ./internal/alarms -run '^$' -bench EvaluationRoundAllChange -benchtime 3x
func BenchmarkEvaluationRoundAllChange(b *testing.B) { benchmarkRound(b, true) }

func benchmarkRound(b *testing.B, flip bool) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("MIRADOR_BENCH_ALARMS")); err == nil {
		n = v
	}
	t := &testing.T{}
	h := newHarness(t)
	ctx := context.Background()
	t0 := h.clock.Now()
	app, _ := h.metrics.Appender(ctx, "acme")
	for i := range n {
		ls := labels.FromStrings("__name__", "cpu", "host", fmt.Sprintf("h%d", i))
		for ts := t0.Add(-10 * time.Minute); ts.Before(t0.Add(time.Duration(b.N+2) * time.Minute)); ts = ts.Add(15 * time.Second) {
			v := float64(i % 100)
			if flip && ts.Sub(t0)/time.Minute%2 == 0 {
				v = 99 // breaching in even minutes, not in odd ones
			}
			if _, err := app.Append(0, ls, 0, ts.UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		if i%500 == 499 {
			_ = app.Commit()
			app, _ = h.metrics.Appender(ctx, "acme")
		}
	}
	_ = app.Commit()
	for i := range n {
		a := Alarm{Name: fmt.Sprintf("cpu-h%d", i), Query: fmt.Sprintf(`max(cpu{host="h%d"})`, i), PeriodSeconds: 60,
			EvaluationPeriods: 3, ComparisonOperator: eval.GreaterThan, Threshold: 95, AlarmActions: []string{"ops"}}
		if flip {
			a.OKActions = []string{"ops"}
			a.EvaluationPeriods, a.DatapointsToAlarm = 1, 1
			a.Flapping = &Flapping{} // off: flipping every minute is the point here
		}
		if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
			b.Fatal(err)
		}
	}
	h.round(t0.Add(time.Minute + 30*time.Second)) // the first transitions, out of the measurement
	b.ResetTimer()
	var walls []time.Duration
	cpu0 := cpuTime()
	for i := range b.N {
		start := time.Now()
		h.clock.Set(t0.Add(time.Duration(i+2)*time.Minute + 30*time.Second))
		if got := h.svc.Round(ctx); got != n {
			b.Fatalf("round evaluated %d alarms, want %d", got, n)
		}
		walls = append(walls, time.Since(start))
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	b.ReportMetric(float64(walls[len(walls)/2].Milliseconds()), "ms/round-p50")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/round")
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "alarms/cpu-s")
}

// BenchmarkBreachToNotification runs the real evaluator and notifier on
// the wall clock with MIRADOR_BENCH_ALARMS alarms (default 10,000) of a
// 10-second period, breaches 200 of them at random moments, and reports
// the delay from the breaching sample's timestamp to the notification
// reaching a local webhook receiver (p50, p99). For a period of a minute
// or more the schedule adds up to a minute more: datapoints are period
// aggregates evaluated once a minute, as CloudWatch's are.
//
//	go test ./internal/alarms -run '^$' -bench BreachToNotification -benchtime 1x
func BenchmarkBreachToNotification(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("MIRADOR_BENCH_ALARMS")); err == nil {
		n = v
	}
	const breaches = 200
	t := &testing.T{}
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the harness clock follows the wall clock
		for ctx.Err() == nil {
			h.clock.Set(time.Now())
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for i := range n {
		a := Alarm{Name: fmt.Sprintf("h%d", i), Query: fmt.Sprintf(`max(cpu{host="h%d"})`, i), PeriodSeconds: 10,
			EvaluationPeriods: 1, ComparisonOperator: eval.GreaterThan, Threshold: 95, AlarmActions: []string{"ops"}}
		if _, _, err := h.svc.Put(ctx, "acme", a); err != nil {
			b.Fatal(err)
		}
	}
	breachAt := make([]time.Time, breaches) // by alarm index
	var mu sync.Mutex
	feed := func(until time.Time) {
		for time.Now().Before(until) {
			now := time.Now()
			app, _ := h.metrics.Appender(ctx, "acme")
			for i := range n {
				v := 10.0
				mu.Lock()
				if i < breaches && !breachAt[i].IsZero() {
					v = 99
				}
				mu.Unlock()
				_, _ = app.Append(0, labels.FromStrings("__name__", "cpu", "host", fmt.Sprintf("h%d", i)), 0, now.UnixMilli(), v, nil, nil, storage.AOptions{})
			}
			_ = app.Commit()
			time.Sleep(2 * time.Second)
		}
	}
	go h.svc.Run(ctx)
	feed(time.Now().Add(25 * time.Second)) // every alarm OK
	h.hook.mu.Lock()
	h.hook.envs = nil
	h.hook.mu.Unlock()

	b.ResetTimer()
	go feed(time.Now().Add(60 * time.Second))
	start := time.Now()
	for i := range breaches { // spread over 30 s; the feed writes 99 from then on
		time.Sleep(time.Until(start.Add(time.Duration(i) * 150 * time.Millisecond)))
		mu.Lock()
		breachAt[i] = time.Now()
		mu.Unlock()
		app, _ := h.metrics.Appender(ctx, "acme")
		_, _ = app.Append(0, labels.FromStrings("__name__", "cpu", "host", fmt.Sprintf("h%d", i)), 0, breachAt[i].UnixMilli(), 99, nil, nil, storage.AOptions{})
		_ = app.Commit()
	}
	envs := h.hook.wait(t, breaches)
	if t.Failed() {
		b.Fatal("not every breach was notified")
	}
	b.StopTimer()
	var delays []time.Duration
	for _, env := range envs {
		m := alarmMessageOf(env.Message)
		i, _ := strconv.Atoi(m.AlarmName[1:])
		if m.NewStateValue == eval.Alarm && i < breaches {
			delays = append(delays, h.hook.arrival(env.MessageID).Sub(breachAt[i]))
		}
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	b.ReportMetric(delays[len(delays)/2].Seconds(), "delay-p50-s")
	b.ReportMetric(delays[len(delays)*99/100].Seconds(), "delay-p99-s")
}
