package metricfilter

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

// MaxSeriesPerFilter bounds the dimension combinations one filter may
// produce in an hour (CloudWatch disables a filter past 1,000); beyond it
// records are not counted and mirador_metric_filter_dropped_total says so.
const MaxSeriesPerFilter = 1000

// ApplierOptions configure an Applier.
type ApplierOptions struct {
	Store    *Store
	Appender func(ctx context.Context, tenant string) (storage.AppenderV2, error)
	// Grace is how long after a minute ends its sums are written (late
	// records of the minute still count); default 5 s.
	Grace time.Duration
	// Tick is how often closed minutes are written; default 5 s.
	Tick       time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Applier applies the metric filters to ingested records and writes the
// per-minute sums to the TSDB. It is safe for concurrent use.
type Applier struct {
	opts ApplierOptions

	mu       sync.Mutex
	sums     map[bucket]float64
	series   map[string]seriesInfo // by series key: labels and tenant
	flushed  time.Time             // minutes before this are written
	seen     map[string]map[string]bool
	seenHour time.Time

	matched *prometheus.CounterVec
	written prometheus.Counter
	dropped *prometheus.CounterVec
}

type bucket struct {
	series string
	minute int64 // unix ms of the minute's start
}

type seriesInfo struct {
	tenant string
	labels labels.Labels
}

// NewApplier returns an Applier; Run writes what it sums.
func NewApplier(opts ApplierOptions) *Applier {
	if opts.Grace <= 0 {
		opts.Grace = 5 * time.Second
	}
	if opts.Tick <= 0 {
		opts.Tick = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	f := promauto.With(opts.Registerer)
	a := &Applier{
		opts: opts, sums: map[bucket]float64{}, series: map[string]seriesInfo{}, seen: map[string]map[string]bool{},
		matched: f.NewCounterVec(prometheus.CounterOpts{Name: "mirador_metric_filter_matched_records_total", Help: "Log records that matched a metric filter, by tenant."}, []string{"tenant"}),
		written: f.NewCounter(prometheus.CounterOpts{Name: "mirador_metric_filter_samples_written_total", Help: "Per-minute samples metric filters wrote to the TSDB."}),
		dropped: f.NewCounterVec(prometheus.CounterOpts{Name: "mirador_metric_filter_dropped_total", Help: "Values metric filters did not record, by reason (too_many_series, not_a_number, refused by the TSDB)."}, []string{"reason"}),
	}
	return a
}

// Observe applies a tenant's filters to records just stored. It costs one
// map lookup per log group without filters.
func (a *Applier) Observe(tenant string, recs []eventstore.Record) {
	start := 0
	for i := 1; i <= len(recs); i++ {
		if i < len(recs) && recs[i].Group == recs[start].Group {
			continue
		}
		a.observeGroup(tenant, recs[start:i])
		start = i
	}
}

func (a *Applier) observeGroup(tenant string, recs []eventstore.Record) {
	filters, err := a.opts.Store.filters(tenant, recs[0].Group)
	if err != nil {
		a.opts.Logger.Warn("read metric filters", "tenant", tenant, "err", err)
		return
	}
	if len(filters) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	matched := 0
	for i := range recs {
		r := &recs[i]
		ev := filterpattern.Event{Message: r.Body, Fields: func(path string) (eventstore.Value, bool) { return logs.RecordField(r, path) }}
		minute := time.Unix(0, r.Time).Truncate(time.Minute)
		if minute.Before(a.flushed) {
			minute = a.flushed // already written: count it in the oldest open minute
		}
		for _, f := range filters {
			t := f.Transformations[0]
			ok, x := f.pattern.MatchExtract(ev)
			switch {
			case ok:
				matched++
				v := f.value
				if !f.literal {
					val, found := x.Get(t.MetricValue)
					n, err := strconv.ParseFloat(val.String(), 64)
					if !found || err != nil {
						a.dropped.WithLabelValues("not_a_number").Inc()
						continue
					}
					v = n
				}
				dims := map[string]string{}
				for k, ref := range t.Dimensions {
					if dv, ok := x.Get(ref); ok {
						dims[k] = dv.String()
					}
				}
				a.add(tenant, f, dims, minute, v)
			case t.DefaultValue != nil:
				a.add(tenant, f, nil, minute, *t.DefaultValue)
			}
		}
	}
	if matched > 0 {
		a.matched.WithLabelValues(tenant).Add(float64(matched))
	}
}

// add sums v into a series' minute (a.mu held).
func (a *Applier) add(tenant string, f *compiled, dims map[string]string, minute time.Time, v float64) {
	t := f.Transformations[0]
	b := labels.NewScratchBuilder(4 + len(dims))
	b.Add(model.MetricNameLabel, t.MetricName)
	b.Add("namespace", t.MetricNamespace)
	b.Add("log_group", f.LogGroup)
	b.Add("metric_filter", f.Name)
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.Add(k, dims[k])
	}
	b.Sort()
	ls := b.Labels()
	key := tenant + "\x00" + ls.String()
	if _, ok := a.series[key]; !ok {
		if hour := minute.Truncate(time.Hour); hour.After(a.seenHour) {
			a.seen, a.seenHour = map[string]map[string]bool{}, hour
		}
		fk := tenant + "\x00" + f.LogGroup + "\x00" + f.Name
		if a.seen[fk] == nil {
			a.seen[fk] = map[string]bool{}
		}
		if !a.seen[fk][key] && len(a.seen[fk]) >= MaxSeriesPerFilter {
			a.dropped.WithLabelValues("too_many_series").Inc()
			return
		}
		a.seen[fk][key] = true
		a.series[key] = seriesInfo{tenant: tenant, labels: ls}
	}
	a.sums[bucket{key, minute.UnixMilli()}] += v
}

// Run writes closed minutes every Tick until ctx ends, then writes
// everything it holds.
func (a *Applier) Run(ctx context.Context) {
	t := time.NewTicker(a.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.Flush(context.WithoutCancel(ctx), true)
			return
		case <-t.C:
			a.Flush(ctx, false)
		}
	}
}

// Flush writes the sums of minutes that ended at least Grace ago, or with
// all of every minute, oldest first.
func (a *Applier) Flush(ctx context.Context, all bool) {
	a.mu.Lock()
	cut := a.opts.Now().Add(-a.opts.Grace).Truncate(time.Minute)
	type sample struct {
		series seriesInfo
		t      int64
		v      float64
	}
	var out []sample
	for b, v := range a.sums {
		if all || b.minute < cut.UnixMilli() {
			// Dated at the minute's last millisecond, so a range of one
			// minute ending at the next minute (an alarm's period) holds it.
			out = append(out, sample{a.series[b.series], b.minute + time.Minute.Milliseconds() - 1, v})
			delete(a.sums, b)
		}
	}
	if cut.After(a.flushed) {
		a.flushed = cut
	}
	if len(a.sums) == 0 {
		clear(a.series) // the next hour's series may differ; keep the map small
	}
	a.mu.Unlock()
	if len(out) == 0 {
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t < out[j].t })
	byTenant := map[string][]sample{}
	for _, s := range out {
		byTenant[s.series.tenant] = append(byTenant[s.series.tenant], s)
	}
	for tenant, ss := range byTenant {
		app, err := a.opts.Appender(ctx, tenant)
		if err != nil {
			a.opts.Logger.Warn("write metric filter samples", "tenant", tenant, "err", err)
			continue
		}
		n := 0
		for _, s := range ss {
			if _, err := app.Append(0, s.series.labels, 0, s.t, s.v, nil, nil, storage.AOptions{}); err != nil {
				a.opts.Logger.Debug("metric filter sample refused", "series", s.series.labels.String(), "err", err)
				a.dropped.WithLabelValues("refused").Inc()
				continue
			}
			n++
		}
		if err := app.Commit(); err != nil {
			a.opts.Logger.Warn("write metric filter samples", "tenant", tenant, "err", err)
			continue
		}
		a.written.Add(float64(n))
	}
}
