package metrics

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/compression"
	"golang.org/x/time/rate"
)

// tenantDB is one tenant's TSDB and the state that enforces its limits.
type tenantDB struct {
	id      string
	dir     string
	db      *tsdb.DB
	stats   *tsdb.DBStats
	limits  Limits
	limiter *rate.Limiter // nil when the ingest rate is unlimited
	series  *seriesLimiter
	// oooWindow is metrics.out_of_order_window in milliseconds.
	oooWindow int64

	apiOnce sync.Once
	api     *promAPI
}

func openTenantDB(dir, id string, o Options) (*tenantDB, error) {
	limits := o.Limits(id)
	t := &tenantDB{
		id:        id,
		dir:       dir,
		stats:     tsdb.NewDBStats(),
		limits:    limits,
		series:    &seriesLimiter{max: int64(limits.MaxSeries)},
		oooWindow: o.OutOfOrderWindow.Milliseconds(),
	}
	if limits.SamplesPerSecond > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(limits.SamplesPerSecond), limits.BurstSamples)
	}

	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = o.RetentionTime.Milliseconds()
	opts.MaxBytes = o.RetentionSize
	opts.OutOfOrderTimeWindow = o.OutOfOrderWindow.Milliseconds()
	opts.WALCompression = compression.Snappy
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = 100_000
	opts.SeriesLifecycleCallback = t.series
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"tenant": id}, o.Registerer)
	db, err := tsdb.Open(dir, o.Logger.With("component", "tsdb", "tenant", id), reg, opts, t.stats)
	if err != nil {
		return nil, fmt.Errorf("open TSDB of tenant %s in %s: %w", id, dir, err)
	}
	t.db = db
	// Series replayed from the WAL were accepted before; the limit applies
	// to new series only from now on.
	t.series.enforce.Store(true)
	return t, nil
}

// seriesLimiter counts the head's series and refuses new ones beyond max.
// The TSDB calls it under its own locks, so it only touches atomics.
type seriesLimiter struct {
	max     int64
	active  atomic.Int64
	enforce atomic.Bool
}

func (s *seriesLimiter) PreCreation(labels.Labels) error {
	if s.max > 0 && s.enforce.Load() && s.active.Load() >= s.max {
		return &seriesError{reasonMaxSeries, fmt.Sprintf("tenant has reached limits.max_series (%d active series); new series are refused until old ones leave the head or the limit is raised", s.max)}
	}
	return nil
}

func (s *seriesLimiter) PostCreation(labels.Labels) { s.active.Add(1) }

func (s *seriesLimiter) PostDeletion(m map[chunks.HeadSeriesRef]labels.Labels) {
	s.active.Add(-int64(len(m)))
}
