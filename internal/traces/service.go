package traces

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/query"
)

// maxFutureSkew is how far ahead of the server's clock a span may start.
const maxFutureSkew = 2 * time.Hour

// maxNameLength bounds service and span names, as X-Ray does for segments.
const maxNameLength = 1024

// ErrInvalidQuery wraps every error a caller can fix in a query request.
var ErrInvalidQuery = errors.New("invalid query")

// Limits bound what one tenant may send. Zero means unlimited.
type Limits struct {
	MaxBodyBytes   int64
	SpansPerSecond float64
	BurstSpans     int
}

// Options configure a Service.
type Options struct {
	Store *eventstore.Store
	// SpanMetrics, if set, receives every stored batch (RED metrics).
	SpanMetrics *SpanMetrics
	Limits      func(tenant string) Limits
	Query       query.Limits
	Now         func() time.Time
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// Service is the traces pillar: ingest into the event store's spans
// dataset, lookup, search, service map and span metrics. It is safe for
// concurrent use.
type Service struct {
	opts     Options
	rate     ingest.RateLimiter
	ingested *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Limits == nil {
		opts.Limits = func(string) Limits { return Limits{} }
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	f := promauto.With(opts.Registerer)
	return &Service{
		opts: opts,
		rate: ingest.RateLimiter{
			Records: "spans", Setting: "limits.ingest_spans_per_second", BurstSetting: "limits.ingest_burst_spans",
			Rate: func(t string) ingest.Rate {
				l := opts.Limits(t)
				return ingest.Rate{PerSecond: l.SpansPerSecond, Burst: l.BurstSpans}
			},
		},
		ingested: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_traces_ingested_spans_total",
			Help: "Spans stored, by tenant and protocol (otlp, zipkin, xray).",
		}, []string{"tenant", "protocol"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_traces_rejected_spans_total",
			Help: "Spans not stored, by tenant and reason.",
		}, []string{"tenant", "reason"}),
	}
}

// MaxBodyBytes is the largest request body the tenant may send (0: no limit).
func (s *Service) MaxBodyBytes(tenant string) int64 { return s.opts.Limits(tenant).MaxBodyBytes }

// Rejection says why one span of a batch was not stored.
type Rejection struct {
	Index  int    // position in the batch
	Reason string // machine-readable: invalid_id, invalid_name, too_new
	Error  string
}

// IngestResult is what an ingest call stored and refused.
type IngestResult struct {
	Accepted int
	Rejected []Rejection
}

// Ingest validates and stores span records of one tenant, taking
// ownership of recs (it filters them in place). A bad span is refused
// alone; the rest are stored durably and count in span metrics. The error
// is non-nil only when nothing was stored for a reason other than bad
// spans (rate limit, storage).
func (s *Service) Ingest(ctx context.Context, tenant, protocol string, recs []eventstore.Record) (IngestResult, error) {
	var res IngestResult
	maxTime := s.opts.Now().Add(maxFutureSkew).UnixNano()
	kept := recs[:0]
	for i := range recs {
		r := &recs[i]
		reason, msg := "", ""
		switch {
		case r.TraceID == [16]byte{}:
			reason, msg = "invalid_id", "trace id is missing or all zeros"
		case r.SpanID == [8]byte{}:
			reason, msg = "invalid_id", "span id is missing or all zeros"
		case len(r.Name) > maxNameLength || len(r.Group) > maxNameLength:
			reason, msg = "invalid_name", fmt.Sprintf("span or service name longer than %d bytes", maxNameLength)
		case r.Group == "":
			reason, msg = "invalid_name", "service name is empty"
		case r.Time > maxTime:
			reason, msg = "too_new", fmt.Sprintf("start %s is more than %s ahead of the server's clock", time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano), maxFutureSkew)
		}
		if reason != "" {
			res.Rejected = append(res.Rejected, Rejection{Index: i, Reason: reason, Error: msg})
			s.rejected.WithLabelValues(tenant, reason).Inc()
			continue
		}
		kept = append(kept, *r)
	}
	if len(kept) == 0 {
		return res, nil
	}
	if err := s.rate.Admit(tenant, len(kept)); err != nil {
		return IngestResult{}, err
	}
	if err := s.opts.Store.Append(ctx, tenant, eventstore.DatasetSpans, kept); err != nil {
		return IngestResult{}, fmt.Errorf("store spans: %w", err)
	}
	if s.opts.SpanMetrics != nil {
		if err := s.opts.SpanMetrics.Record(ctx, tenant, kept); err != nil {
			s.opts.Logger.Warn("span metrics not recorded", "tenant", tenant, "spans", len(kept), "err", err)
		}
	}
	res.Accepted = len(kept)
	s.ingested.WithLabelValues(tenant, protocol).Add(float64(len(kept)))
	return res, nil
}

// IngestOTLP stores OTLP spans.
func (s *Service) IngestOTLP(ctx context.Context, tenant string, td ptrace.Traces) (IngestResult, error) {
	return s.Ingest(ctx, tenant, "otlp", RecordsFromOTLP(td, s.opts.Now().UnixNano()))
}
