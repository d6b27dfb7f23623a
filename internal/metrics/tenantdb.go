package metrics

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
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
	series  *seriesGate
	refs    *refCache // remote-write 1.0 label encodings → head series
	// oooWindow is metrics.out_of_order_window in milliseconds.
	oooWindow int64

	apiOnce sync.Once
	api     *promAPI
}

func openTenantDB(dir, id string, o Options) (*tenantDB, error) {
	limits := o.Limits(id)
	refs := newRefCache()
	t := &tenantDB{
		id:        id,
		dir:       dir,
		stats:     tsdb.NewDBStats(),
		limits:    limits,
		series:    &seriesGate{limits: limits, refs: refs},
		refs:      refs,
		oooWindow: o.OutOfOrderWindow.Milliseconds(),
	}
	if limits.SamplesPerSecond > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(limits.SamplesPerSecond), limits.BurstSamples)
	}

	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = o.RetentionTime.Milliseconds()
	opts.MaxBytes = o.RetentionSize
	opts.OutOfOrderTimeWindow = o.OutOfOrderWindow.Milliseconds()
	opts.MaxBlockDuration = maxBlockDuration(o.RetentionTime).Milliseconds()
	if o.XOR2 {
		opts.FloatChunkEncoding = chunkenc.EncXOR2
	}
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

// maxBlockDuration is how long compaction lets blocks grow, as Prometheus's
// server sets it: a tenth of the retention, between 2h and 31d. Larger
// blocks share one index across more samples.
func maxBlockDuration(retention time.Duration) time.Duration {
	return min(max(retention/10, 2*time.Hour), 31*24*time.Hour)
}

// seriesGate decides, when the TSDB is about to create a series, whether
// it may: its labels must be valid and within the tenant's limits, and the
// tenant under limits.max_series. Every ingest path (remote write, OTLP,
// scrape) creates series through it. The TSDB calls it under its own locks,
// so it only reads immutable state and atomics.
type seriesGate struct {
	limits  Limits
	refs    *refCache // forgets the series the head deletes
	active  atomic.Int64
	enforce atomic.Bool // off while the WAL is replayed: those series were accepted before
}

func (g *seriesGate) PreCreation(ls labels.Labels) error {
	if !g.enforce.Load() {
		return nil
	}
	if err := g.limits.checkSeries(ls); err != nil {
		return err
	}
	if max := int64(g.limits.MaxSeries); max > 0 && g.active.Load() >= max {
		return &seriesError{reasonMaxSeries, fmt.Sprintf("tenant has reached limits.max_series (%d active series); new series are refused until old ones leave the head or the limit is raised", max)}
	}
	return nil
}

func (g *seriesGate) PostCreation(labels.Labels) { g.active.Add(1) }

func (g *seriesGate) PostDeletion(m map[chunks.HeadSeriesRef]labels.Labels) {
	g.active.Add(-int64(len(m)))
	g.refs.drop(m)
}
