package sampling

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/miradorhq/mirador/internal/meta"
)

// Options configure a Store and a Service. The zero value is usable.
type Options struct {
	// Region and AccountID go into rule ARNs; defaults "us-east-1" and
	// "000000000000".
	Region    string
	AccountID string
	// MaxRules is how many rules a tenant may have besides Default;
	// default 25, X-Ray's quota.
	MaxRules int
	// Now is the clock; default time.Now.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Defaults of Options.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
	DefaultMaxRules  = 25
)

func (o Options) withDefaults() Options {
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if o.MaxRules <= 0 {
		o.MaxRules = DefaultMaxRules
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	return o
}

// Service is centralized sampling for X-Ray clients: the rule Store, the
// quota Allocator and the X-Ray REST API over both (Handler). It is safe
// for concurrent use.
type Service struct {
	opts      Options
	store     *Store
	allocator *Allocator

	requests *prometheus.CounterVec
	quotas   *prometheus.CounterVec
}

// NewService returns the service over the meta store db.
func NewService(db *meta.Store, opts Options) *Service {
	opts = opts.withDefaults()
	f := promauto.With(opts.Registerer)
	return &Service{
		opts:      opts,
		store:     NewStore(db, opts),
		allocator: NewAllocator(opts.Now),
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_traces_sampling_requests_total",
			Help: "X-Ray sampling API requests, by operation and error type (empty on success).",
		}, []string{"operation", "error"}),
		quotas: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_traces_sampling_statistics_total",
			Help: "Sampling statistics documents received, by outcome (target, unprocessed).",
		}, []string{"outcome"}),
	}
}

// Store returns the rule store.
func (s *Service) Store() *Store { return s.store }

// Targets is the answer to a GetSamplingTargets call.
type Targets struct {
	Documents            []TargetDocument
	Unprocessed          []UnprocessedStatistics
	LastRuleModification time.Time // zero if the tenant's rules never changed
}

// Targets records a tenant's statistics documents and returns the clients'
// new quotas (GetSamplingTargets).
func (s *Service) Targets(ctx context.Context, tenant string, docs []StatisticsDocument) (Targets, error) {
	rules, err := s.store.Rules(ctx, tenant)
	if err != nil {
		return Targets{}, err
	}
	last, err := s.store.LastModification(ctx, tenant)
	if err != nil {
		return Targets{}, err
	}
	var out Targets
	out.Documents, out.Unprocessed = s.allocator.Assign(tenant, rules, docs)
	out.LastRuleModification = last
	s.quotas.WithLabelValues("target").Add(float64(len(out.Documents)))
	s.quotas.WithLabelValues("unprocessed").Add(float64(len(out.Unprocessed)))
	return out, nil
}
