package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	otlptranslator "github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"github.com/prometheus/prometheus/util/features"

	"github.com/miradorhq/mirador/internal/tenant"
)

// Options configure an Engine. Zero durations and sizes mean "Prometheus's
// default" only where noted; the server fills them from configuration.
type Options struct {
	Dir                 string        // one TSDB per tenant below it
	RetentionTime       time.Duration // required
	RetentionSize       int64         // per tenant; 0 = no size limit
	OutOfOrderWindow    time.Duration // 0 refuses out-of-order samples
	XOR2                bool          // encode float chunks with XOR2 instead of XOR
	QueryTimeout        time.Duration
	QueryMaxSamples     int
	QueryMaxConcurrency int
	LookbackDelta       time.Duration

	// AlertSink receives the changes of the rule files' alerts (started
	// firing, resolved); see AlertSink. Nil drops them; the rules are still
	// evaluated and answered by /api/v1/rules and /alerts.
	AlertSink AlertSink

	// Limits returns the limits of a tenant; called when its TSDB opens.
	Limits func(tenant string) Limits

	// Prometheus holds the scrape configs, rule files, globals and OTLP
	// translation settings, as parsed by Prometheus's config loader. Scrape
	// configs and rule files belong to ScrapeTenant.
	Prometheus   *promconfig.Config
	ScrapeTenant string
	// SelfScrapeAddr is the host:port serving Mirador's /metrics, scraped
	// as job "mirador" every SelfScrapeInterval; empty or 0 disables it.
	SelfScrapeAddr     string
	SelfScrapeInterval time.Duration

	// ListenAddr and BuildInfo feed the Prometheus API's status pages.
	ListenAddr string
	BuildInfo  BuildInfo

	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

// BuildInfo describes the running binary for status/buildinfo.
type BuildInfo struct {
	Version, Revision, Branch, BuildDate, GoVersion string
}

// Engine is the metrics engine. It is safe for concurrent use.
type Engine struct {
	opts     Options
	logger   *slog.Logger
	started  time.Time
	query    *promql.Engine
	parser   parser.Parser
	features features.Collector
	tracker  *promql.ActiveQueryTracker

	mu      sync.Mutex
	tenants map[string]*tenantDB
	closed  bool

	scrape     *scraper
	rules      *ruleRunner // the scrape tenant's rule files, if any
	converters sync.Pool   // of *otlptranslator.PrometheusConverter, which keep caches

	ingested *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// ErrClosed is returned by an Engine after Close.
var ErrClosed = errors.New("metrics engine is closed")

// Open opens the TSDBs of every tenant found under opts.Dir (replaying their
// WALs), starts the PromQL engine and starts scraping.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Gatherer == nil {
		opts.Gatherer = prometheus.NewRegistry()
		if g, ok := opts.Registerer.(prometheus.Gatherer); ok {
			opts.Gatherer = g
		}
	}
	if opts.Limits == nil {
		opts.Limits = func(string) Limits { return Limits{} }
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create metrics directory: %w", err)
	}
	e := &Engine{
		opts:       opts,
		logger:     opts.Logger,
		started:    time.Now(),
		parser:     parser.NewParser(parser.Options{}),
		features:   features.NewRegistry(),
		tenants:    make(map[string]*tenantDB),
		converters: sync.Pool{New: func() any { return otlptranslator.NewPrometheusConverter(nil) }},
		ingested: promauto.With(opts.Registerer).NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_metrics_ingested_samples_total",
			Help: "Samples (floats and histograms) stored by remote write and OTLP, by tenant and protocol.",
		}, []string{"tenant", "protocol"}),
		rejected: promauto.With(opts.Registerer).NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_metrics_rejected_samples_total",
			Help: "Samples refused by remote write and OTLP, by tenant and reason.",
		}, []string{"tenant", "reason"}),
	}

	tracker, err := promql.NewActiveQueryTracker(opts.Dir, opts.QueryMaxConcurrency, opts.Logger.With("component", "query tracker"))
	if err != nil {
		return nil, fmt.Errorf("start query tracker: %w", err)
	}
	e.tracker = tracker
	evalInterval := time.Minute
	if opts.Prometheus != nil {
		evalInterval = time.Duration(opts.Prometheus.GlobalConfig.EvaluationInterval)
	}
	e.query = promql.NewEngine(promql.EngineOpts{
		Logger:                   opts.Logger.With("component", "promql"),
		Reg:                      opts.Registerer,
		MaxSamples:               opts.QueryMaxSamples,
		Timeout:                  opts.QueryTimeout,
		ActiveQueryTracker:       tracker,
		LookbackDelta:            opts.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return evalInterval.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		FeatureRegistry:          e.features,
		Parser:                   e.parser,
	})

	if err := e.openExisting(); err != nil {
		_ = e.Close()
		return nil, err
	}
	if err := e.startScrape(); err != nil {
		_ = e.Close()
		return nil, err
	}
	if err := e.startRules(); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// openExisting opens every tenant TSDB on disk, so WAL replay, compaction
// and retention happen whether or not the tenant is active.
func (e *Engine) openExisting() error {
	entries, err := os.ReadDir(e.opts.Dir)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	for _, de := range entries {
		if de.IsDir() && tenant.Validate(de.Name()) == nil {
			if _, err := e.tenant(de.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

// tenant returns the open TSDB of id, opening (or creating) it on first use.
func (e *Engine) tenant(id string) (*tenantDB, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if t, ok := e.tenants[id]; ok {
		return t, nil
	}
	if err := tenant.Validate(id); err != nil {
		return nil, err
	}
	t, err := openTenantDB(filepath.Join(e.opts.Dir, id), id, e.opts)
	if err != nil {
		return nil, err
	}
	e.tenants[id] = t
	return t, nil
}

// tenantOf returns the TSDB of the tenant carried by ctx.
func (e *Engine) tenantOf(ctx context.Context) (*tenantDB, error) {
	id, ok := tenant.FromContext(ctx)
	if !ok {
		return nil, errors.New("metrics: request carries no tenant")
	}
	return e.tenant(id)
}

// StopScraping stops the scrape and discovery managers and the rule
// manager. Close does it too; a server calls it first, before it stops
// serving its own /metrics.
func (e *Engine) StopScraping() {
	if e.scrape != nil {
		e.scrape.stop()
	}
	e.stopRules()
}

// Close stops scraping and closes every TSDB, flushing their WALs.
func (e *Engine) Close() error {
	e.StopScraping()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	for id, t := range e.tenants {
		if err := t.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close TSDB of tenant %s: %w", id, err))
		}
	}
	if e.tracker != nil {
		if err := e.tracker.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Appender returns an appender to the TSDB of a tenant, for samples
// Mirador derives itself (span metrics, log metric filters). They are not
// counted against ingest rates; their series obey the tenant's series
// limits like any other.
func (e *Engine) Appender(ctx context.Context, tenant string) (storage.AppenderV2, error) {
	t, err := e.tenant(tenant)
	if err != nil {
		return nil, err
	}
	return t.db.AppenderV2(ctx), nil
}
