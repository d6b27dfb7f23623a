package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters may gzip gRPC messages

	"github.com/miradorhq/mirador/internal/alarms"
	"github.com/miradorhq/mirador/internal/api"
	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/buildinfo"
	"github.com/miradorhq/mirador/internal/config"
	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/eventstore/wal"
	"github.com/miradorhq/mirador/internal/ingest/otlp"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/logs/metricfilter"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/metrics"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/tenant"
	"github.com/miradorhq/mirador/internal/traces"
	"github.com/miradorhq/mirador/internal/traces/sampling"
	"github.com/miradorhq/mirador/internal/traces/xray"
)

// ErrInsecure is returned by Start when a listener is reachable from other
// hosts but no API key exists and --insecure was not given.
var ErrInsecure = errors.New("refusing to serve off loopback without credentials")

// Server is a running Mirador server.
type Server struct {
	cfg    *config.Config
	logger *slog.Logger

	listeners map[string]net.Listener // by name: http, otlp_http, otlp_grpc
	http      *http.Server
	otlpHTTP  *http.Server
	grpc      *grpc.Server
	xrayUDP   *xray.Receiver // the daemon protocol's segments
	xrayTCP   *http.Server   // the daemon protocol's sampling proxy

	meta     *meta.Store
	auth     *auth.Authenticator
	metrics  *metrics.Engine
	events   *eventstore.Store
	logs     *logs.Service
	traces   *traces.Service
	sampling *sampling.Service
	spanRED  *traces.SpanMetrics
	notify   *notify.Service
	alarms   *alarms.Service

	filters     *metricfilter.Applier
	filterDefs  *metricfilter.Store
	stopFilters context.CancelFunc // stops the metric filters' writer, which writes what it holds
	filtersDone chan struct{}

	stopBackground context.CancelFunc // stops the evaluator and the notifier
	bg             sync.WaitGroup     // their goroutines

	serving  bool // the listeners belong to the HTTP and gRPC servers
	ready    atomic.Bool
	serveErr chan error
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// Start binds the listeners, opens storage and starts serving. Addresses of
// ":0" get free ports; Addr reports what was bound.
func Start(ctx context.Context, cfg *config.Config, logger *slog.Logger) (_ *Server, err error) {
	s := &Server{cfg: cfg, logger: logger, listeners: map[string]net.Listener{}, serveErr: make(chan error, 3)}
	if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimit))
	}
	defer func() {
		if err != nil {
			_ = s.Shutdown(context.Background())
		}
	}()

	dsn := cfg.Meta.DSN
	if dsn == "" {
		dsn = filepath.Join(cfg.DataDir, "meta.db")
	}
	if s.meta, err = meta.Open(ctx, meta.Options{Driver: cfg.Meta.Driver, DSN: dsn}); err != nil {
		return nil, err
	}
	tenants, keys := auth.NewTenants(s.meta), auth.NewKeys(s.meta)
	if err := s.checkExposure(ctx, keys); err != nil {
		return nil, err
	}
	for _, l := range listenerAddrs(cfg) {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return nil, fmt.Errorf("listen for %s on %s: %w", l.name, l.addr, err)
		}
		s.listeners[l.name] = ln
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "mirador_build_info",
			Help:        "Always 1; labels describe the running binary.",
			ConstLabels: prometheus.Labels{"version": buildinfo.Version, "revision": buildinfo.Revision, "goversion": buildinfo.GoVersion},
		}, func() float64 { return 1 }),
	)
	s.auth = auth.NewAuthenticator(tenants, keys, reg)

	s.metrics, err = metrics.Open(ctx, metrics.Options{
		Dir:                 filepath.Join(cfg.DataDir, "metrics"),
		RetentionTime:       cfg.Metrics.RetentionTime.Std(),
		RetentionSize:       int64(cfg.Metrics.RetentionSize),
		OutOfOrderWindow:    cfg.Metrics.OutOfOrderWindow.Std(),
		XOR2:                cfg.Metrics.FloatChunkEncoding == "xor2",
		QueryTimeout:        cfg.Metrics.QueryTimeout.Std(),
		QueryMaxSamples:     cfg.Metrics.QueryMaxSamples,
		QueryMaxConcurrency: cfg.Metrics.QueryMaxConcurrency,
		LookbackDelta:       cfg.Metrics.LookbackDelta.Std(),
		Limits:              func(t string) metrics.Limits { return metricsLimits(cfg.LimitsFor(t)) },
		Prometheus:          cfg.Metrics.Prometheus,
		ScrapeTenant:        cfg.Metrics.ScrapeTenant,
		SelfScrapeAddr:      s.selfScrapeAddr(),
		SelfScrapeInterval:  cfg.Metrics.SelfScrapeInterval.Std(),
		AlertSink:           s.publishAlerts,
		ListenAddr:          s.Addr("http"),
		BuildInfo: metrics.BuildInfo{
			Version: buildinfo.Version, Revision: buildinfo.Revision, Branch: buildinfo.Branch,
			BuildDate: buildinfo.Date, GoVersion: buildinfo.GoVersion,
		},
		Logger:     logger,
		Registerer: reg,
		Gatherer:   reg,
	})
	if err != nil {
		return nil, fmt.Errorf("open metrics engine: %w", err)
	}

	if err := s.openLogs(ctx, reg); err != nil {
		return nil, err
	}
	s.openTraces(reg)
	s.sampling = sampling.NewService(s.meta, sampling.Options{
		Region: cfg.Traces.XRayRegion, AccountID: cfg.Traces.XRayAccountID,
		Logger: logger.With("component", "sampling"), Registerer: reg,
	})
	if cfg.XRayUDPAddr != "" {
		if err := s.openXRay(reg); err != nil {
			return nil, err
		}
	}

	if err := s.openAlarms(ctx, reg); err != nil {
		return nil, fmt.Errorf("open alarms: %w", err)
	}

	receiver := otlp.NewReceiver(otlp.Options{
		Metrics: otlp.MetricsConsumerFunc(func(ctx context.Context, md pmetric.Metrics) (otlp.Result, error) {
			res, err := s.metrics.ConsumeOTLP(ctx, md)
			if errors.Is(err, metrics.ErrClosed) {
				err = fmt.Errorf("%w: %v", otlp.ErrUnavailable, err)
			}
			return otlp.Result{Rejected: res.Rejected, Message: res.Message}, err
		}),
		Logs: otlp.LogsConsumerFunc(func(ctx context.Context, ld plog.Logs) (otlp.Result, error) {
			id, _ := tenant.FromContext(ctx)
			res, err := s.logs.IngestOTLP(ctx, id, otlp.LogGroupFromContext(ctx), ld)
			if errors.Is(err, eventstore.ErrClosed) {
				err = fmt.Errorf("%w: %v", otlp.ErrUnavailable, err)
			}
			return otlpLogsResult(res), err
		}),
		Traces: otlp.TracesConsumerFunc(func(ctx context.Context, td ptrace.Traces) (otlp.Result, error) {
			id, _ := tenant.FromContext(ctx)
			res, err := s.traces.IngestOTLP(ctx, id, td)
			if errors.Is(err, eventstore.ErrClosed) {
				err = fmt.Errorf("%w: %v", otlp.ErrUnavailable, err)
			}
			return otlpTracesResult(res), err
		}),
		BodyLimit: func(ctx context.Context) int64 {
			id, _ := tenant.FromContext(ctx)
			return int64(cfg.LimitsFor(id).MaxRequestBodyBytes)
		},
		Logger:     logger.With("component", "otlp"),
		Registerer: reg,
	})

	s.http = &http.Server{
		Handler: api.NewHandler(api.Options{
			Authenticator: s.auth, Tenants: tenants, Keys: keys,
			Metrics: s.metrics, OTLP: receiver, Logs: s.logs, Traces: s.traces,
			Sampling: s.sampling, XRay: xray.NewDecoder(),
			Alarms: s.alarms, Notify: s.notify, MetricFilters: s.filterDefs,
			Ready:   s.readiness,
			Version: buildinfo.Version, Gatherer: reg, Registerer: reg,
			Logger: logger,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	s.otlpHTTP = &http.Server{
		Handler:           s.auth.Require(auth.ScopeIngest, receiver.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	s.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(grpcMaxMessage(cfg)),
		grpc.UnaryInterceptor(grpcAuth(s.auth, auth.ScopeIngest)),
	)
	receiver.RegisterGRPC(s.grpc)

	s.serving = true
	s.serve("http", func(ln net.Listener) error { return s.http.Serve(ln) })
	s.serve("otlp_http", func(ln net.Listener) error { return s.otlpHTTP.Serve(ln) })
	s.serve("otlp_grpc", func(ln net.Listener) error { return s.grpc.Serve(ln) })
	s.serve("xray_tcp", func(ln net.Listener) error { return s.xrayTCP.Serve(ln) })
	s.ready.Store(true)
	return s, nil
}

// serve runs fn on the named listener, if it is bound, and logs its address.
func (s *Server) serve(name string, fn func(net.Listener) error) {
	ln, ok := s.listeners[name]
	if !ok {
		return
	}
	s.logger.Info("listening", "listener", name, "addr", ln.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
			s.serveErr <- fmt.Errorf("serve %s on %s: %w", name, ln.Addr(), err)
		}
	}()
}

// Addr returns the bound address of listener name (http, otlp_http,
// otlp_grpc, xray_udp, xray_tcp), or "" if it is disabled.
func (s *Server) Addr(name string) string {
	if name == "xray_udp" && s.xrayUDP != nil {
		return s.xrayUDP.Addr().String()
	}
	if ln, ok := s.listeners[name]; ok {
		return ln.Addr().String()
	}
	return ""
}

// Errors delivers a listener's failure while serving.
func (s *Server) Errors() <-chan error { return s.serveErr }

func (s *Server) readiness() error {
	if !s.ready.Load() {
		return errors.New("starting or shutting down")
	}
	return nil
}

// listenerAddrs lists the enabled listeners and their configured addresses.
func listenerAddrs(cfg *config.Config) []struct{ name, addr string } {
	var out []struct{ name, addr string }
	for _, l := range []struct{ name, addr string }{{"http", cfg.HTTPAddr}, {"otlp_http", cfg.OTLPHTTPAddr}, {"otlp_grpc", cfg.OTLPGRPCAddr}} {
		if l.addr != "" {
			out = append(out, l)
		}
	}
	return out
}

// checkExposure enforces secure-by-default before anything is bound: a
// listener reachable from other hosts needs an API key to exist, or an
// explicit --insecure.
func (s *Server) checkExposure(ctx context.Context, keys *auth.Keys) error {
	// The X-Ray daemon protocol has no credentials, so keys cannot guard it.
	if a := s.cfg.XRayUDPAddr; a != "" && !loopbackOnly(ctx, a) && !s.cfg.Insecure {
		return fmt.Errorf("%w: the X-Ray daemon listener on %s can be reached from other hosts and its protocol carries no credentials; bind it to 127.0.0.1 (--xray-udp-addr), disable it with --xray-udp-addr '', or pass --insecure",
			ErrInsecure, a)
	}
	var exposed []string
	for _, l := range listenerAddrs(s.cfg) {
		if !loopbackOnly(ctx, l.addr) {
			exposed = append(exposed, fmt.Sprintf("%s on %s", l.name, l.addr))
		}
	}
	if len(exposed) == 0 {
		return nil
	}
	anyKey, err := keys.AnyActive(ctx)
	if err != nil {
		return fmt.Errorf("check API keys: %w", err)
	}
	switch {
	case anyKey:
		return nil
	case s.cfg.Insecure:
		s.logger.Warn("serving off loopback without authentication because --insecure is set", "listeners", exposed)
		return nil
	}
	return fmt.Errorf("%w: %s can be reached from other hosts and no API key exists; create one first with 'mirador keys create --tenant default --scope admin --data-dir %s', bind to 127.0.0.1, or pass --insecure to serve without authentication",
		ErrInsecure, strings.Join(exposed, ", "), s.cfg.DataDir)
}

// loopbackOnly reports whether a listen address binds loopback interfaces
// only. An empty host or a wildcard binds every interface; a host name
// counts as loopback only if every address it resolves to is.
func loopbackOnly(ctx context.Context, addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return false
		}
	}
	return true
}

// selfScrapeAddr is where the scraper reaches our own /metrics: the main
// listener, through loopback when it is bound to every interface.
func (s *Server) selfScrapeAddr() string {
	ln, ok := s.listeners["http"]
	if !ok {
		return ""
	}
	addr := ln.Addr().(*net.TCPAddr)
	if addr.IP.IsUnspecified() {
		if addr.IP.To4() != nil {
			return net.JoinHostPort("127.0.0.1", fmt.Sprint(addr.Port))
		}
		return net.JoinHostPort("::1", fmt.Sprint(addr.Port))
	}
	return addr.String()
}

// Shutdown stops accepting, drains in-flight requests until ctx ends, then
// flushes and closes storage. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.ready.Store(false)
		if s.metrics != nil {
			s.metrics.StopScraping() // before /metrics goes away, so the last self-scrape is not a failure
		}
		var errs []error
		if s.xrayUDP != nil {
			if err := s.xrayUDP.Close(); err != nil { // flushes its last batch into the still-open store
				errs = append(errs, err)
			}
		}
		for _, srv := range []*http.Server{s.http, s.otlpHTTP, s.xrayTCP} {
			if srv != nil {
				if err := srv.Shutdown(ctx); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if s.grpc != nil {
			stopped := make(chan struct{})
			go func() { s.grpc.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-ctx.Done():
				s.grpc.Stop()
			}
		}
		if !s.serving {
			for _, ln := range s.listeners {
				_ = ln.Close()
			}
		}
		s.wg.Wait()
		if s.stopBackground != nil {
			s.stopBackground() // before the stores they write to close
			s.bg.Wait()
		}
		if s.stopFilters != nil {
			s.stopFilters() // after the notifier, whose log sink feeds them; before the TSDB closes
			<-s.filtersDone
		}
		if s.spanRED != nil {
			s.spanRED.Close() // writes the last span metrics before the TSDB closes
		}
		if s.events != nil {
			if err := s.events.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.metrics != nil {
			if err := s.metrics.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.auth != nil {
			_ = s.auth.Close()
		}
		if s.meta != nil {
			if err := s.meta.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// Run starts a server and serves until ctx is cancelled (SIGINT/SIGTERM in
// main), then shuts down gracefully within cfg.ShutdownTimeout.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	s, err := Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	// SIGHUP re-reads the rule files, as it does for Prometheus.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var serveErr error
wait:
	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
			break wait
		case serveErr = <-s.Errors():
			logger.Error("listener failed; shutting down", "err", serveErr)
			break wait
		case <-hup:
			if err := s.metrics.ReloadRules(ctx); err != nil {
				logger.Error("rule files not reloaded; the previous rules keep running", "err", err)
			} else {
				logger.Info("rule files reloaded")
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.Std())
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return errors.Join(serveErr, fmt.Errorf("shutdown: %w", err))
	}
	logger.Info("stopped")
	return serveErr
}

// splitList splits a comma-separated setting.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func metricsLimits(l config.Limits) metrics.Limits {
	return metrics.Limits{
		MaxBodyBytes:        int64(l.MaxRequestBodyBytes),
		MaxSeries:           l.MaxSeries,
		MaxLabelsPerSeries:  l.MaxLabelsPerSeries,
		MaxLabelNameLength:  l.MaxLabelNameLength,
		MaxLabelValueLength: l.MaxLabelValueLength,
		SamplesPerSecond:    l.IngestSamplesPerSecond,
		BurstSamples:        l.IngestBurstSamples,
	}
}

// grpcMaxMessage is the largest body any tenant may send, as gRPC checks
// message size before it knows the tenant.
func grpcMaxMessage(cfg *config.Config) int {
	largest := cfg.Limits.MaxRequestBodyBytes
	for _, l := range cfg.TenantLimits {
		if l.MaxRequestBodyBytes == 0 {
			return math.MaxInt32
		}
		largest = max(largest, l.MaxRequestBodyBytes)
	}
	if largest == 0 || largest > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(largest)
}

// openLogs opens the event store and the logs pillar on it.
func (s *Server) openLogs(ctx context.Context, reg prometheus.Registerer) error {
	cfg := s.cfg
	groups := logs.NewGroups(s.meta, func(t string) int { return cfg.LimitsFor(t).MaxLogGroups })
	policy := map[string]wal.Policy{"always": wal.SyncAlways, "interval": wal.SyncInterval, "never": wal.SyncNever}[cfg.EventStore.WALFsync]
	var err error
	s.events, err = eventstore.Open(ctx, eventstore.Options{
		Dir:                filepath.Join(cfg.DataDir, "events"),
		Sync:               policy,
		SyncInterval:       cfg.EventStore.WALFsyncInterval.Std(),
		WALSegmentSize:     int64(cfg.EventStore.WALSegmentSize),
		HeadMaxBytes:       int64(cfg.EventStore.HeadMaxBytes),
		HeadMaxAge:         cfg.EventStore.HeadMaxAge.Std(),
		CompactionInterval: cfg.EventStore.CompactionInterval.Std(),
		Retention: func(t, dataset, group string) time.Duration {
			switch dataset {
			case eventstore.DatasetLogs:
				return groups.Retention(t, group)
			case eventstore.DatasetSpans:
				return cfg.Traces.Retention.Std()
			}
			return 0
		},
		Logger:     s.logger.With("component", "eventstore"),
		Registerer: reg,
	})
	if err != nil {
		return fmt.Errorf("open event store: %w", err)
	}
	filterLog := s.logger.With("component", "metric filters")
	s.filterDefs = metricfilter.NewStore(s.meta.DB(), filterLog)
	s.filters = metricfilter.NewApplier(metricfilter.ApplierOptions{
		Store: s.filterDefs, Appender: s.metrics.Appender, Logger: filterLog, Registerer: reg,
	})
	filtersCtx, stop := context.WithCancel(context.Background())
	s.stopFilters, s.filtersDone = stop, make(chan struct{})
	go func() { defer close(s.filtersDone); s.filters.Run(filtersCtx) }()
	s.logs = logs.New(logs.Options{
		MetricFilters:   s.filters,
		Store:           s.events,
		Groups:          groups,
		GroupAttribute:  cfg.Logs.GroupAttribute,
		DefaultGroup:    cfg.Logs.DefaultGroup,
		LokiGroupLabels: splitList(cfg.Logs.LokiGroupLabels),
		TailBuffer:      cfg.Logs.TailBuffer,
		Limits: func(t string) logs.Limits {
			l := cfg.LimitsFor(t)
			return logs.Limits{
				MaxBodyBytes:     int64(l.MaxRequestBodyBytes),
				RecordsPerSecond: l.IngestLogRecordsPerSecond,
				BurstRecords:     l.IngestBurstLogRecords,
				MaxRecordBytes:   int64(l.MaxLogRecordBytes),
			}
		},
		Query: s.queryLimits(),

		Logger:     s.logger.With("component", "logs"),
		Registerer: reg,
	})
	return nil
}

// queryLimits bound each event query (logs, spans).
func (s *Server) queryLimits() query.Limits {
	e := s.cfg.EventStore
	return query.Limits{
		Timeout: e.QueryTimeout.Std(), MaxBytes: int64(e.QueryMaxBytes), MaxRecords: e.QueryMaxRecords, MaxRows: e.QueryMaxRows, Workers: e.QueryWorkers,
	}
}

// openTraces opens the traces pillar on the event store, with span metrics
// written to the metrics engine.
func (s *Server) openTraces(reg prometheus.Registerer) {
	cfg := s.cfg
	s.spanRED = traces.NewSpanMetrics(s.metrics, cfg.Traces.SpanMetricsInterval.Std(), cfg.Traces.SpanMetricsMaxOperations, s.logger.With("component", "spanmetrics"))
	s.traces = traces.New(traces.Options{
		Store:       s.events,
		SpanMetrics: s.spanRED,
		Limits: func(t string) traces.Limits {
			l := cfg.LimitsFor(t)
			return traces.Limits{MaxBodyBytes: int64(l.MaxRequestBodyBytes), SpansPerSecond: l.IngestSpansPerSecond, BurstSpans: l.IngestBurstSpans}
		},
		Query: s.queryLimits(),

		Logger:     s.logger.With("component", "traces"),
		Registerer: reg,
	})
}

// openXRay listens for the X-Ray daemon protocol: segments over UDP and,
// on the same port over TCP, the sampling API the SDKs call through the
// daemon. Both belong to tenant traces.xray_tenant: the protocol carries no
// credentials.
func (s *Server) openXRay(reg prometheus.Registerer) error {
	cfg := s.cfg
	sink := func(ctx context.Context, tenant string, recs []eventstore.Record) error {
		_, err := s.traces.Ingest(ctx, tenant, "xray", recs)
		return err
	}
	// With port 0 the UDP port is picked first and TCP must get the same
	// one, which another process may hold: try a few.
	for attempt := 0; ; attempt++ {
		rcv, err := xray.Listen(cfg.XRayUDPAddr, cfg.Traces.XRayTenant, sink, s.logger.With("component", "xray"))
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", rcv.Addr().String())
		if err != nil {
			_ = rcv.Close()
			if _, port, _ := net.SplitHostPort(cfg.XRayUDPAddr); port == "0" && attempt < 5 {
				continue
			}
			return fmt.Errorf("listen for the X-Ray sampling API on tcp %s: %w", rcv.Addr(), err)
		}
		s.xrayUDP, s.listeners["xray_tcp"] = rcv, ln
		break
	}
	reg.MustRegister(s.xrayUDP)
	s.logger.Info("listening", "listener", "xray_udp", "addr", s.xrayUDP.Addr().String())
	tenantOf := func(*http.Request) (string, error) { return cfg.Traces.XRayTenant, nil }
	s.xrayTCP = &http.Server{
		Handler:           s.sampling.Handler(tenantOf),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// otlpTracesResult reports refused spans as OTLP partial success.
func otlpTracesResult(res traces.IngestResult) otlp.Result {
	if len(res.Rejected) == 0 {
		return otlp.Result{}
	}
	return partialSuccess(len(res.Rejected), "span", res.Rejected[0].Index, res.Rejected[0].Error)
}

// otlpLogsResult reports refused records as OTLP partial success.
func otlpLogsResult(res logs.IngestResult) otlp.Result {
	if len(res.Rejected) == 0 {
		return otlp.Result{}
	}
	return partialSuccess(len(res.Rejected), "record", res.Rejected[0].Index, res.Rejected[0].Error)
}

// partialSuccess says how many items were refused, quoting the first.
func partialSuccess(refused int, noun string, first int, why string) otlp.Result {
	msg := fmt.Sprintf("%s %d: %s", noun, first, why)
	if refused > 1 {
		msg += fmt.Sprintf(" (and %d more %ss refused)", refused-1, noun)
	}
	return otlp.Result{Rejected: int64(refused), Message: msg}
}
