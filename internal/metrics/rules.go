package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/strutil"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// Alert is one change of a Prometheus alerting rule's alert: it started
// firing, or it resolved.
type Alert struct {
	Status       string            // "firing" or "resolved"
	Labels       map[string]string // alertname included
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time // zero while firing
	GeneratorURL string
	Fingerprint  string // hex hash of the labels, stable across restarts
}

// AlertSink receives alert changes of a tenant's rules. It is called from
// the rule evaluation goroutines and must not block for long. When it
// fails, the changes are offered again at the rule manager's next send
// (a minute later for firing alerts; resolved ones for 15 minutes).
type AlertSink func(ctx context.Context, tenant string, alerts []Alert) error

// ruleRunner is one tenant's Prometheus rule manager, and what it has
// notified.
type ruleRunner struct {
	tenant  string
	manager *rules.Manager
	done    chan struct{}
	stop    sync.Once

	mu       sync.Mutex
	notified map[uint64]bool // fingerprints whose firing was sent
}

// startRules loads the rule files of the Prometheus config for the scrape
// tenant and starts Prometheus's rule manager over that tenant's TSDB. An
// invalid file fails it with Prometheus's error, naming file and line.
func (e *Engine) startRules() error {
	pc := e.opts.Prometheus
	if pc == nil || len(pc.RuleFiles) == 0 {
		return nil
	}
	t, err := e.tenant(e.opts.ScrapeTenant)
	if err != nil {
		return err
	}
	ext, _ := url.Parse("http://" + e.opts.ListenAddr + "/prometheus")
	r := &ruleRunner{tenant: t.id, done: make(chan struct{}), notified: map[uint64]bool{}}
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"tenant": t.id}, e.opts.Registerer)
	r.manager = rules.NewManager(&rules.ManagerOptions{
		ExternalURL: ext,
		QueryFunc:   rules.EngineQueryFunc(e.query, t.db),
		NotifyFunc:  r.notify(e.opts.AlertSink, ext.String()),
		Context:     context.Background(),
		Appendable:  t.db,
		Queryable:   t.db,
		Logger:      e.logger.With("component", "rule manager", "tenant", t.id),
		Registerer:  reg,
		Metrics:     rules.NewGroupMetrics(reg),
		// Prometheus's defaults.
		OutageTolerance: time.Hour,
		ForGracePeriod:  10 * time.Minute,
		ResendDelay:     time.Minute,
		FeatureRegistry: e.features,
		Parser:          e.parser,
	})
	files, err := e.ruleFiles(pc.RuleFiles)
	if err != nil {
		return err
	}
	interval := time.Duration(pc.GlobalConfig.EvaluationInterval)
	if err := r.manager.Update(interval, files, pc.GlobalConfig.ExternalLabels, ext.String(), nil); err != nil {
		return fmt.Errorf("load rule files: %w", err)
	}
	go func() { r.manager.Run(); close(r.done) }()
	e.rules = r
	return nil
}

// ReloadRules reads the rule files again (a SIGHUP's work). A file that
// no longer parses leaves the previous rules running and is reported.
func (e *Engine) ReloadRules() error {
	if e.rules == nil {
		return nil
	}
	pc := e.opts.Prometheus
	files, err := e.ruleFiles(pc.RuleFiles)
	if err != nil {
		return err
	}
	return e.rules.manager.Update(time.Duration(pc.GlobalConfig.EvaluationInterval), files, pc.GlobalConfig.ExternalLabels, "http://"+e.opts.ListenAddr+"/prometheus", nil)
}

// ruleFiles expands the rule_files globs, as Prometheus does, and parses
// every file, so a mistake is reported with its file, line and reason (the
// rule manager only says that loading failed).
func (e *Engine) ruleFiles(globs []string) ([]string, error) {
	var files []string
	var errs []error
	for _, g := range globs {
		matched, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("rule_files %q: %w", g, err)
		}
		for _, f := range matched {
			_, fileErrs := rulefmt.ParseFile(f, false, model.UTF8Validation, e.parser, e.logger)
			errs = append(errs, fileErrs...)
		}
		files = append(files, matched...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid rule files: %w", errors.Join(errs...))
	}
	return files, nil
}

func (e *Engine) stopRules() {
	if r := e.rules; r != nil {
		r.stop.Do(func() { r.manager.Stop(); <-r.done })
	}
}

// notify turns the rule manager's sends — every active alert again each
// ResendDelay — into changes: an alert is passed on when it starts firing
// and when it resolves, once each. Pending alerts are not passed on. What
// was notified is kept in memory, so after a restart an alert still firing
// is notified once more.
func (r *ruleRunner) notify(sink AlertSink, externalURL string) rules.NotifyFunc {
	return func(ctx context.Context, expr string, alerts ...*rules.Alert) {
		if sink == nil {
			return
		}
		var out []Alert
		r.mu.Lock()
		for _, a := range alerts {
			fp := a.Labels.Hash()
			resolved := !a.ResolvedAt.IsZero()
			switch {
			case resolved && r.notified[fp]:
				delete(r.notified, fp)
			case !resolved && a.State == rules.StateFiring && !r.notified[fp]:
				r.notified[fp] = true
			default:
				continue
			}
			c := Alert{
				Status: "firing", Labels: a.Labels.Map(), Annotations: a.Annotations.Map(),
				StartsAt: a.FiredAt, GeneratorURL: externalURL + strutil.TableLinkForExpression(expr),
				Fingerprint: fmt.Sprintf("%016x", fp),
			}
			if resolved {
				c.Status, c.EndsAt = "resolved", a.ResolvedAt
			}
			out = append(out, c)
		}
		r.mu.Unlock()
		if len(out) == 0 {
			return
		}
		if err := sink(ctx, r.tenant, out); err != nil {
			r.mu.Lock()
			for _, a := range out {
				fp := labels.FromMap(a.Labels).Hash()
				r.notified[fp] = a.Status == "resolved" // undo: firing not sent, resolved still owed
			}
			r.mu.Unlock()
		}
	}
}

// rulesRetriever answers /api/v1/rules and /api/v1/alerts for a tenant.
func (e *Engine) rulesRetriever(tenant string) v1.RulesRetriever {
	if e.rules != nil && e.rules.tenant == tenant {
		return e.rules.manager
	}
	return noRules{}
}
