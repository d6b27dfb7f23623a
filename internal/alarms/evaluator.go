package alarms

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/alarms/eval"
)

// Run loads the alarms and evaluates them until ctx ends: each metric
// alarm every interval (10 s for periods under a minute, else a minute),
// at its own offset into the interval; composite alarms whenever an alarm
// of their tenant changed state.
func (s *Service) Run(ctx context.Context) error {
	if !s.loaded {
		if err := s.Load(ctx); err != nil {
			return err
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-s.changed:
		}
		s.Round(ctx)
		wait := time.Until(s.nextDue())
		if wait < 0 {
			wait = 0
		}
		if wait > time.Second {
			wait = time.Second // picks up alarms added meanwhile without a kick
		}
		timer.Reset(wait)
	}
}

// nextDue is the earliest scheduled evaluation.
func (s *Service) nextDue() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.opts.Now().Add(time.Minute)
	for _, m := range s.alarms {
		for _, e := range m {
			if kind, at := e.schedule(); kind == KindMetric && at.Before(next) {
				next = at
			}
		}
	}
	return next
}

// Round evaluates every metric alarm that is due, then the composite
// alarms, and returns how many metric alarms it evaluated.
func (s *Service) Round(ctx context.Context) int {
	began := time.Now()
	now := s.opts.Now()
	var due []*entry
	s.mu.Lock()
	for _, m := range s.alarms {
		for _, e := range m {
			if kind, at := e.schedule(); kind == KindMetric && !at.After(now) {
				due = append(due, e)
			}
		}
	}
	s.mu.Unlock()

	work := make(chan *entry)
	commits := make(chan *change, maxCommitBatch)
	committed := make(chan struct{})
	go func() { s.commitChanges(ctx, commits); close(committed) }()
	var wg sync.WaitGroup
	for range min(s.opts.Workers, len(due)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				s.evaluate(ctx, e, now, commits)
			}
		}()
	}
	for _, e := range due {
		work <- e
	}
	close(work)
	wg.Wait()
	close(commits)
	<-committed
	s.evaluateComposites(ctx, now)
	if len(due) > 0 {
		s.roundTime.Observe(time.Since(began).Seconds())
	}
	return len(due)
}

// maxCommitBatch bounds how many state changes one transaction writes.
const maxCommitBatch = 1024

// commitChanges writes the changes of a round's evaluations, as many per
// transaction as are waiting, and hands each alarm back: the evaluation
// that sent a change left its entry locked for this to unlock.
func (s *Service) commitChanges(ctx context.Context, in <-chan *change) {
	for first := range in {
		batch := []*change{first}
	drain:
		for len(batch) < maxCommitBatch {
			select {
			case c, ok := <-in:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		for i, err := range s.commit(ctx, batch) {
			e := batch[i].e
			if err != nil {
				e.evalErr = err.Error()
				s.opts.Logger.Warn("alarm state change not saved; it is retried at the next evaluation", "tenant", e.tenant, "alarm", e.rec.cfg.Name, "err", err)
			}
			e.mu.Unlock()
		}
	}
}

// evaluate runs one metric alarm at the interval boundary before now. A
// change of state goes to commits with the entry still locked; the
// committer unlocks it once the change is written and applied.
func (s *Service) evaluate(ctx context.Context, e *entry, now time.Time, commits chan<- *change) {
	e.mu.Lock()
	handedOver := false
	defer func() {
		if !handedOver {
			e.mu.Unlock()
		}
	}()
	if e.deleted.Load() {
		return
	}
	a := e.rec.cfg
	iv := a.Interval()
	at := now.Truncate(iv)
	e.next = at.Add(iv + offset(e.tenant, a.Name, iv))
	res, err := s.compute(ctx, e, &a, at)
	if err != nil {
		e.evalErr = err.Error()
		s.evaluations.WithLabelValues("error").Inc()
		s.opts.Logger.Debug("alarm evaluation failed", "tenant", e.tenant, "alarm", a.Name, "err", err)
		return
	}
	e.evalErr = ""
	s.evaluations.WithLabelValues("ok").Inc()
	if c := s.decide(e, res.State, res.Reason, res.ReasonData, s.opts.Now()); c != nil {
		handedOver = true
		commits <- c
	}
}

// compute evaluates a metric alarm's range of datapoints ending at at.
func (s *Service) compute(ctx context.Context, e *entry, a *Alarm, at time.Time) (eval.Result, error) {
	cfg := a.EvalConfig()
	p := a.Period()
	r := cfg.RangePeriods()
	start := at.Add(-time.Duration(r-1) * p)
	points, err := s.points(ctx, e.tenant, a.Expr(), start, at, p, r)
	if err != nil {
		return eval.Result{}, err
	}
	if a.AnomalyBand != nil {
		if err := s.band(ctx, e, a, points, at); err != nil {
			return eval.Result{}, fmt.Errorf("anomaly band: %w", err)
		}
	}
	res := eval.Evaluate(cfg, points, e.rec.st.Value, at)
	if a.EvaluateLowSampleCountPercentile == "ignore" && res.State != e.rec.st.Value {
		_, q, _ := statistic(a.Metric.Statistic)
		counts, err := s.points(ctx, e.tenant, a.sampleCountExpr(), start, at, p, r)
		if err != nil {
			return eval.Result{}, err
		}
		for i, c := range counts {
			if points[i].Present && eval.LowSampleCount(q, c.Value) {
				res.State = e.rec.st.Value
				res.Reason = fmt.Sprintf("The datapoint at %s has %v samples, too few for %s; the state is kept (evaluateLowSampleCountPercentile is ignore)", points[i].Time.UTC().Format(time.RFC3339), c.Value, a.Metric.Statistic)
				break
			}
		}
	}
	return res, nil
}

// points queries expr at each of n steps ending at end: datapoint i
// covers the period ending at its step and is dated at that period's start.
func (s *Service) points(ctx context.Context, tenant, expr string, start, end time.Time, step time.Duration, n int) ([]eval.Point, error) {
	mx, err := s.opts.Metrics.QueryRange(ctx, tenant, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	if len(mx) > 1 {
		var ls []string
		for _, sr := range mx[:min(3, len(mx))] {
			ls = append(ls, sr.Metric.String())
		}
		return nil, fmt.Errorf("the query returned %d series (%s…); an alarm watches one: aggregate it, e.g. max(...) or sum(...)", len(mx), strings.Join(ls, ", "))
	}
	points := make([]eval.Point, n)
	for i := range points {
		points[i].Time = start.Add(time.Duration(i)*step - step)
	}
	if len(mx) == 1 {
		for _, f := range mx[0].Floats {
			i := int((f.T - start.UnixMilli()) / step.Milliseconds())
			if i >= 0 && i < n {
				points[i].Present, points[i].Value = true, f.F
			}
		}
	}
	return points, nil
}

// evaluateComposites brings every composite alarm up to date with its
// children, repeating while one composite's change can affect another.
func (s *Service) evaluateComposites(ctx context.Context, now time.Time) {
	s.mu.Lock()
	var comps []*entry
	for _, m := range s.alarms {
		for _, e := range m {
			if kind, _ := e.schedule(); kind == KindComposite {
				comps = append(comps, e)
			}
		}
	}
	s.mu.Unlock()
	for pass := 0; pass <= len(comps); pass++ {
		changed := false
		for _, e := range comps {
			if s.evaluateComposite(ctx, e, now) {
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// evaluateComposite sets a composite alarm to ALARM when its rule holds,
// else OK, and reports whether its state changed.
func (s *Service) evaluateComposite(ctx context.Context, e *entry, now time.Time) bool {
	e.mu.Lock()
	rule, name, deleted, cur := e.rule, e.rec.cfg.Name, e.deleted.Load(), e.rec.st.Value
	e.mu.Unlock()
	if deleted || rule == nil {
		return false
	}
	children := map[string]eval.State{}
	for _, c := range rule.Children() {
		if child, err := s.lookup(e.tenant, alarmName(c)); err == nil && child != e {
			child.mu.Lock()
			children[c] = child.rec.st.Value
			child.mu.Unlock()
		}
	}
	holds := rule.Eval(func(alarm string) string { return string(children[alarm]) })
	state, word := eval.OK, "FALSE"
	if holds {
		state, word = eval.Alarm, "TRUE"
	}
	if state == cur {
		return false
	}
	var triggering []map[string]string
	for c, st := range children {
		triggering = append(triggering, map[string]string{"arn": s.ARN(alarmName(c)), "state": string(st)})
	}
	data := mustJSON(map[string]any{"triggeringAlarms": triggering})
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.deleted.Load() {
		return false
	}
	reason := fmt.Sprintf("The rule %s evaluated to %s", e.rec.cfg.Rule, word)
	if err := s.transition(ctx, e, state, reason, data, now); err != nil {
		s.opts.Logger.Warn("composite alarm state change not saved", "tenant", e.tenant, "alarm", name, "err", err)
		return false
	}
	return true
}

// alarmName takes an alarm name or ARN.
func alarmName(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if i := strings.Index(ref, ":alarm:"); i >= 0 {
			return ref[i+len(":alarm:"):]
		}
	}
	return ref
}
