package metrics

import (
	"context"
	"errors"
	"github.com/grafana/regexp"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/route"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/notifications"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// This file is the only one that knows the shape of Prometheus's web API
// constructor, which changes with every minor version.

// promAPI is one tenant's Prometheus HTTP API, mounted under a prefix.
type promAPI struct {
	router *route.Router
}

// PrometheusAPI serves Prometheus's HTTP API (query, query_range, series,
// labels, label values, metadata, exemplars, format_query, status pages,
// targets) under prefix, for the tenant carried by the request context.
// Response shapes are Prometheus's own, since its handlers serve them.
func (e *Engine) PrometheusAPI(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := e.tenantOf(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		t.apiOnce.Do(func() { t.api = e.newPromAPI(t, prefix) })
		t.api.router.ServeHTTP(w, r)
	})
}

func (e *Engine) newPromAPI(t *tenantDB, prefix string) *promAPI {
	// Targets, scrape pools and their config belong to the scrape tenant.
	var targets interface {
		v1.TargetRetriever
		v1.ScrapePoolsRetriever
	} = noTargets{}
	cfg := promconfig.DefaultConfig
	if t.id == e.opts.ScrapeTenant && e.scrape != nil {
		targets = e.scrape.manager
		cfg = *e.scrape.config
	}
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"tenant": t.id}, e.opts.Registerer)
	retention := promDuration(e.opts.RetentionTime)

	api := v1.NewAPI(
		e.query, t.db,
		nil, nil, // appenders: remote write and OTLP are served by Mirador's own receivers
		t.db,
		func(context.Context) v1.ScrapePoolsRetriever { return targets },
		func(context.Context) v1.TargetRetriever { return targets },
		func(context.Context) v1.AlertmanagerRetriever { return noAlertmanagers{} },
		func() promconfig.Config { return cfg },
		map[string]string{
			"storage.tsdb.retention.time":           retention,
			"storage.tsdb.out-of-order-time-window": promDuration(e.opts.OutOfOrderWindow),
			"query.timeout":                         promDuration(e.opts.QueryTimeout),
			"query.lookback-delta":                  promDuration(e.opts.LookbackDelta),
		},
		v1.GlobalURLOptions{ListenAddress: e.opts.ListenAddr, Host: e.opts.ListenAddr, Scheme: "http"},
		func(f http.HandlerFunc) http.HandlerFunc { return f },
		tsdbAdmin{t},
		t.dir,
		false, // admin endpoints (delete series, snapshot) are not exposed
		false, 0,
		e.logger.With("component", "prometheus api", "tenant", t.id),
		func(context.Context) v1.RulesRetriever { return e.rulesRetriever(t.id) },
		0, 1, 1<<20, // remote read: unlimited samples, one at a time, 1 MiB frames
		false,
		regexp.MustCompile(`^$`), // no cross-origin access
		func() (v1.RuntimeInfo, error) { return e.runtimeInfo(), nil },
		&v1.PrometheusVersion{
			// The engine answering is Prometheus 3.15's; clients such as
			// Grafana pick query features from this version.
			Version:   "3.15.0",
			Revision:  "mirador-" + e.opts.BuildInfo.Version + "-" + e.opts.BuildInfo.Revision,
			Branch:    e.opts.BuildInfo.Branch,
			BuildUser: "mirador",
			BuildDate: e.opts.BuildInfo.BuildDate,
			GoVersion: e.opts.BuildInfo.GoVersion,
		},
		func() []notifications.Notification { return nil },
		func() (<-chan notifications.Notification, func(), bool) { return nil, func() {}, false },
		tenantGatherer{e.opts.Gatherer, t.id}, reg,
		nil,
		false, nil, // remote write receiver: Mirador's own
		false, false, false, false, // OTLP receiver: Mirador's own
		e.opts.LookbackDelta,
		false, false,
		nil,
		e.features,
		v1.OpenAPIOptions{Version: e.opts.BuildInfo.Version},
		e.parser,
	)
	r := route.New()
	api.Register(r.WithPrefix(prefix))
	return &promAPI{router: r}
}

// promDuration renders d the way Prometheus writes durations (15d, 5m).
func promDuration(d time.Duration) string { return model.Duration(d).String() }

var errNoScrapePool = errors.New("no such scrape pool: this tenant scrapes nothing")

func (e *Engine) runtimeInfo() v1.RuntimeInfo {
	cwd, _ := os.Getwd()
	host, _ := os.Hostname()
	return v1.RuntimeInfo{
		StartTime:           e.started,
		CWD:                 cwd,
		Hostname:            host,
		ServerTime:          time.Now().UTC(),
		ReloadConfigSuccess: true,
		LastConfigTime:      e.started,
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOMEMLIMIT:          debug.SetMemoryLimit(-1),
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
		StorageRetention:    promDuration(e.opts.RetentionTime),
	}
}

// tsdbAdmin adapts a tenant's *tsdb.DB to the status and admin interface
// of the Prometheus API.
type tsdbAdmin struct{ t *tenantDB }

func (a tsdbAdmin) CleanTombstones() error { return a.t.db.CleanTombstones() }
func (a tsdbAdmin) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	return a.t.db.Delete(ctx, mint, maxt, ms...)
}
func (a tsdbAdmin) Snapshot(dir string, withHead bool) error { return a.t.db.Snapshot(dir, withHead) }
func (a tsdbAdmin) Stats(statsByLabelName string, limit int) (*tsdb.Stats, error) {
	return a.t.db.Head().Stats(statsByLabelName, limit), nil
}
func (a tsdbAdmin) WALReplayStatus() (tsdb.WALReplayStatus, error) {
	return a.t.stats.Head.WALReplayStatus.GetWALReplayStatus(), nil
}
func (a tsdbAdmin) BlockMetas() ([]tsdb.BlockMeta, error) { return a.t.db.BlockMetas(), nil }

// noTargets answers for tenants that scrape nothing: no pools, no targets.
type noTargets struct{}

func (noTargets) ScrapePools() []string                       { return nil }
func (noTargets) TargetsActive() map[string][]*scrape.Target  { return nil }
func (noTargets) TargetsDropped() map[string][]*scrape.Target { return nil }
func (noTargets) TargetsDroppedCounts() map[string]int        { return nil }
func (noTargets) ScrapePoolConfig(string) (*promconfig.ScrapeConfig, error) {
	return nil, errNoScrapePool
}

// noAlertmanagers: Mirador delivers alerts itself, through its topics.
type noAlertmanagers struct{}

func (noAlertmanagers) Alertmanagers() []*url.URL        { return nil }
func (noAlertmanagers) DroppedAlertmanagers() []*url.URL { return nil }

// noRules: a tenant without rule files.
type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }
