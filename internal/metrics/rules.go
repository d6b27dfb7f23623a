package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/strutil"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// Rule files are evaluated by Prometheus's own rule manager, so recording
// rules, alert states, `for`, keep_firing_for, templating, ALERTS and
// ALERTS_FOR_STATE series and the /api/v1/rules and /alerts answers are
// Prometheus's. Mirador replaces only the notifier: instead of resending
// every active alert to an Alertmanager, it passes on changes.

// Alert is one change of a Prometheus alerting rule's alert that should be
// notified.
type Alert struct {
	Status       string            // "firing" or "resolved"
	Labels       map[string]string // includes alertname and the global external_labels
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time // zero while firing
	GeneratorURL string
	// Fingerprint is Alertmanager's fingerprint of Labels (16 hex digits):
	// stable across restarts and the same as an Alertmanager would show.
	Fingerprint string
	Rule        string // the rule group's file and name, "file;group"
}

// AlertSink receives a tenant's alert changes: each alert once when it
// starts firing and once when it resolves, firing always before resolved.
// Pending alerts are never passed on, and nothing is repeated: reminders
// while an alert keeps firing are the sink's business.
//
// Calls are serialized per tenant and made from the rule evaluation
// goroutines, so a slow sink delays rule evaluation: it should hand the
// alerts off (to a queue or outbox) and return. When it fails, the changes
// count as not notified and are offered again at the rule manager's next
// send (a minute later for a firing alert, for 15 minutes for a resolved
// one). It must not call back into the Engine's rule methods. The slice and
// its maps are the sink's to keep.
//
// What was notified is held in memory. After a restart an alert still
// firing is notified as firing once more (Prometheus restores its `for`
// state from ALERTS_FOR_STATE, so it fires again after at most the for
// grace period), and an alert that cleared while Mirador was down is not
// notified as resolved.
type AlertSink func(ctx context.Context, tenant string, alerts []Alert) error

// Prometheus's defaults for its rule manager flags.
const (
	ruleOutageTolerance = time.Hour        // --rules.alert.for-outage-tolerance
	ruleForGracePeriod  = 10 * time.Minute // --rules.alert.for-grace-period
	ruleResendDelay     = time.Minute      // --rules.alert.resend-delay
)

// ruleRunner is one tenant's Prometheus rule manager and the alerts it has
// notified as firing.
type ruleRunner struct {
	tenant         string
	manager        *rules.Manager
	sink           AlertSink
	externalURL    string
	externalLabels labels.Labels
	changes        *prometheus.CounterVec // by status
	done           chan struct{}          // closed when manager.Run returns
	stopOnce       sync.Once
	reload         sync.Mutex // one ReloadRules at a time

	// mu orders the sink's calls and guards firing. It is never held while
	// calling into the rule manager, whose Stop and Update wait for rule
	// groups that may be waiting for mu.
	mu     sync.Mutex
	seq    uint64 // counts notifications, so a reload can tell which came before it
	firing map[alertKey]firingAlert
}

// alertKey tells an alert apart from the same label set produced by
// another rule group.
type alertKey struct {
	rule        string
	fingerprint model.Fingerprint
}

type firingAlert struct {
	alert Alert
	seq   uint64
}

// startRules starts Prometheus's rule manager over the scrape tenant's TSDB
// when the Prometheus config names rule files. An invalid file fails it
// with Prometheus's error, which names the file and the line.
func (e *Engine) startRules() error {
	pc := e.opts.Prometheus
	if pc == nil || len(pc.RuleFiles) == 0 {
		return nil
	}
	// Check the files before anything is started or registered.
	files, err := e.ruleFiles()
	if err != nil {
		return err
	}
	ext, err := url.Parse(e.externalURL())
	if err != nil {
		return fmt.Errorf("rule manager: external URL from listen address %q: %w", e.opts.ListenAddr, err)
	}
	t, err := e.tenant(e.opts.ScrapeTenant)
	if err != nil {
		return err
	}
	// Prometheus's rule metrics carry no tenant; the label keeps them apart
	// from those of another tenant and of anything else in the registry.
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"tenant": t.id}, e.opts.Registerer)
	changes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mirador_metrics_rule_alert_changes_total",
		Help: "Alerts of the rule files passed on to be notified, by status (firing, resolved).",
	}, []string{"status"})
	if err := reg.Register(changes); err != nil {
		return fmt.Errorf("rule manager metrics: %w", err)
	}
	changes.WithLabelValues("firing")
	changes.WithLabelValues("resolved")
	r := &ruleRunner{
		tenant:         t.id,
		sink:           e.opts.AlertSink,
		externalURL:    ext.String(),
		externalLabels: pc.GlobalConfig.ExternalLabels,
		changes:        changes,
		done:           make(chan struct{}),
		firing:         map[alertKey]firingAlert{},
	}
	r.manager = rules.NewManager(&rules.ManagerOptions{
		NameValidationScheme: nameValidation(pc),
		ExternalURL:          ext,
		QueryFunc:            rules.EngineQueryFunc(e.query, t.db),
		NotifyFunc:           r.notify,
		Context:              context.Background(),
		Appendable:           t.db,
		Queryable:            t.db,
		Logger:               e.logger.With("component", "rule manager", "tenant", t.id),
		Registerer:           reg,
		OutageTolerance:      ruleOutageTolerance,
		ForGracePeriod:       ruleForGracePeriod,
		ResendDelay:          ruleResendDelay,
		DefaultRuleQueryOffset: func() time.Duration {
			return time.Duration(pc.GlobalConfig.RuleQueryOffset)
		},
		FeatureRegistry: e.features,
		Parser:          e.parser,
	})
	if err := r.manager.Update(time.Duration(pc.GlobalConfig.EvaluationInterval), files, pc.GlobalConfig.ExternalLabels, r.externalURL, nil); err != nil {
		return fmt.Errorf("load rule files: %w", err)
	}
	// The first Update marks every group for restoring `for` state from
	// ALERTS_FOR_STATE; Run lets the groups start evaluating.
	go func() { r.manager.Run(); close(r.done) }()
	e.rules = r
	return nil
}

// externalURL is where the rule manager's links ($externalURL, the alerts'
// GeneratorURL) point: Mirador's Prometheus API prefix.
func (e *Engine) externalURL() string { return "http://" + e.opts.ListenAddr + "/prometheus" }

// ReloadRules reads the rule files again, as a SIGHUP makes Prometheus do:
// changed groups restart with their alerts' state carried over. If a file
// no longer parses, the error names it and the line, and the previous rules
// keep running. Alerts that were notified as firing and whose rule is gone
// are passed to the AlertSink as resolved, with ctx. Without rule files it
// does nothing; after Close it does nothing.
func (e *Engine) ReloadRules(ctx context.Context) error {
	r := e.rules
	if r == nil {
		return nil
	}
	r.reload.Lock()
	defer r.reload.Unlock()
	files, err := e.ruleFiles()
	if err != nil {
		return err
	}
	r.mu.Lock()
	before := r.seq
	r.mu.Unlock()
	pc := e.opts.Prometheus
	if err := r.manager.Update(time.Duration(pc.GlobalConfig.EvaluationInterval), files, pc.GlobalConfig.ExternalLabels, r.externalURL, nil); err != nil {
		return fmt.Errorf("reload rule files: %w", err)
	}
	select {
	case <-r.done: // stopped: Update did nothing
		return nil
	default:
	}
	r.resolveVanished(ctx, before)
	return nil
}

// ruleFiles returns the files the rule_files globs match, expanded as
// Prometheus does, after parsing each: the rule manager's Update only logs
// what is wrong, while rulefmt's errors name the file, line and rule.
func (e *Engine) ruleFiles() ([]string, error) {
	pc := e.opts.Prometheus
	var files []string
	for _, pattern := range pc.RuleFiles {
		matched, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("invalid rule_files pattern %q: %w", pattern, err)
		}
		for _, f := range matched {
			if _, errs := rulefmt.ParseFile(f, false, nameValidation(pc), e.parser, e.logger); len(errs) > 0 {
				return nil, fmt.Errorf("invalid rule file (rule_files %q): %w", pattern, errors.Join(errs...))
			}
		}
		files = append(files, matched...)
	}
	return files, nil
}

// nameValidation is how rule files' metric and label names are checked:
// as the config says, UTF-8 (Prometheus's default) when a hand-built
// config leaves it unset.
func nameValidation(pc *promconfig.Config) model.ValidationScheme {
	if s := pc.GlobalConfig.MetricNameValidationScheme; s != model.UnsetValidation {
		return s
	}
	return model.UTF8Validation
}

// stopRules stops the rule manager and waits for its groups, so no
// evaluation writes to a TSDB being closed.
func (e *Engine) stopRules() {
	if r := e.rules; r != nil {
		r.stopOnce.Do(func() { r.manager.Stop(); <-r.done })
	}
}

// notify is the rule manager's NotifyFunc. Prometheus calls it after every
// evaluation of an alerting rule with the alerts due for (re)sending to an
// Alertmanager: new firing ones, resolved ones, and every firing or
// recently resolved one again each ResendDelay. It passes on only the
// changes. ctx is the group's evaluation context, which carries the group
// as its query origin.
func (r *ruleRunner) notify(ctx context.Context, expr string, alerts ...*rules.Alert) {
	if len(alerts) == 0 {
		return
	}
	group := ruleGroupOf(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	var changes []Alert
	var undo []func() // puts back what a failed send did not notify
	for _, a := range alerts {
		ls := r.withExternalLabels(a.Labels)
		key := alertKey{group, fingerprint(ls)}
		resolved := !a.ResolvedAt.IsZero()
		switch {
		case resolved:
			f, ok := r.firing[key]
			if !ok {
				continue // resent, or never notified as firing
			}
			delete(r.firing, key) // f.alert is given away: the sink got a copy when it fired
			kept := f
			kept.alert.Labels, kept.alert.Annotations = maps.Clone(f.alert.Labels), maps.Clone(f.alert.Annotations)
			undo = append(undo, func() { r.firing[key] = kept })
			f.alert.Status, f.alert.EndsAt = "resolved", a.ResolvedAt
			f.alert.Annotations = a.Annotations.Map() // as templated at its last active evaluation
			changes = append(changes, f.alert)
		case a.State == rules.StateFiring:
			if _, ok := r.firing[key]; ok {
				continue
			}
			c := Alert{
				Status:       "firing",
				Labels:       ls,
				Annotations:  a.Annotations.Map(),
				StartsAt:     a.FiredAt,
				GeneratorURL: r.externalURL + strutil.TableLinkForExpression(expr),
				Fingerprint:  key.fingerprint.String(),
				Rule:         group,
			}
			r.seq++
			kept := c
			kept.Labels, kept.Annotations = maps.Clone(c.Labels), maps.Clone(c.Annotations)
			r.firing[key] = firingAlert{alert: kept, seq: r.seq}
			undo = append(undo, func() { delete(r.firing, key) })
			changes = append(changes, c)
		}
	}
	if r.send(ctx, changes) != nil {
		for _, u := range undo {
			u()
		}
	}
}

// resolveVanished passes on as resolved the alerts notified as firing up to
// notification seq whose rule no longer has them, after a reload removed or
// renamed their rule or group. Alerts notified later are left alone: their
// rule had them after the reload.
func (r *ruleRunner) resolveVanished(ctx context.Context, seq uint64) {
	active := map[alertKey]bool{}
	for _, g := range r.manager.RuleGroups() {
		group := rules.GroupKey(g.File(), g.Name())
		for _, ar := range g.AlertingRules() {
			for _, a := range ar.ActiveAlerts() {
				active[alertKey{group, fingerprint(r.withExternalLabels(a.Labels))}] = true
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var changes []Alert
	now := time.Now()
	for key, f := range r.firing {
		if f.seq <= seq && !active[key] {
			delete(r.firing, key)
			f.alert.Status, f.alert.EndsAt = "resolved", now
			changes = append(changes, f.alert)
		}
	}
	_ = r.send(ctx, changes) // their rule is gone: nothing will offer them again
}

// send passes changes to the sink; r.mu is held, so changes reach the sink
// in the order they were decided.
func (r *ruleRunner) send(ctx context.Context, changes []Alert) error {
	if len(changes) == 0 || r.sink == nil {
		return nil
	}
	if err := r.sink(ctx, r.tenant, changes); err != nil {
		return err
	}
	for _, c := range changes {
		r.changes.WithLabelValues(c.Status).Inc()
	}
	return nil
}

// withExternalLabels returns an alert's labels as an Alertmanager would
// receive them from Prometheus: with the external labels the alert does not
// set itself.
func (r *ruleRunner) withExternalLabels(ls labels.Labels) map[string]string {
	m := ls.Map()
	r.externalLabels.Range(func(l labels.Label) {
		if _, ok := m[l.Name]; !ok {
			m[l.Name] = l.Value
		}
	})
	return m
}

// fingerprint is Alertmanager's fingerprint of a label set
// (model.LabelSet.Fingerprint, which hashes exactly as LabelsToSignature).
func fingerprint(ls map[string]string) model.Fingerprint {
	return model.Fingerprint(model.LabelsToSignature(ls))
}

// ruleGroupOf returns "file;group" of the rule group evaluating, from the
// query origin Prometheus's rule groups put in their context (for its query
// log), or "" should a Prometheus upgrade drop it; NotifyFunc is given no
// other clue. TestRuleFilesRecordAndAlertOnChanges checks it.
func ruleGroupOf(ctx context.Context) string {
	origin, _ := ctx.Value(promql.QueryOrigin{}).(map[string]any)
	g, _ := origin["ruleGroup"].(map[string]string)
	if g == nil {
		return ""
	}
	return rules.GroupKey(g["file"], g["name"])
}

// rulesRetriever answers /api/v1/rules and /api/v1/alerts for a tenant:
// its rule manager's groups, or nothing.
func (e *Engine) rulesRetriever(tenant string) v1.RulesRetriever {
	if e.rules != nil && e.rules.tenant == tenant {
		return e.rules.manager
	}
	return noRules{}
}
