package metricfilter

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

// DefaultMaxSeriesPerFilter bounds the dimension combinations one filter
// may feed in an hour of the server's clock (CloudWatch disables a filter
// past 1,000); records that would add more are not counted, and
// mirador_metric_filter_dropped_total{reason="too_many_series"} says so.
const DefaultMaxSeriesPerFilter = 1000

// AppenderFunc opens an appender on a tenant's TSDB;
// metrics.Engine.Appender is one.
type AppenderFunc func(ctx context.Context, tenant string) (storage.AppenderV2, error)

// ApplierOptions configure an Applier. Store and Appender are required;
// the zero value of every other field is a usable default.
type ApplierOptions struct {
	Store    *Store
	Appender AppenderFunc
	// Grace is how long after a minute ends its sums are written, so that
	// records of the minute still in flight count in it; default 5 s.
	Grace time.Duration
	// Tick is the longest wait between two writes (besides the one due at
	// each minute's end plus Grace), which bounds how long sums of a
	// minute already closed, fed by late records, wait; default 5 s.
	Tick time.Duration
	// MaxSeriesPerFilter: default DefaultMaxSeriesPerFilter.
	MaxSeriesPerFilter int
	Now                func() time.Time
	Logger             *slog.Logger
	Registerer         prometheus.Registerer
}

// Applier applies metric filters to stored log records (Observe) and
// writes per-minute sums to the TSDB (Run). It is safe for concurrent use.
type Applier struct {
	opts ApplierOptions

	flushMu sync.Mutex // held by a flush, outside mu

	mu     sync.Mutex
	series map[string]*series // by appendSeriesKey
	usage  map[usageKey]*usage
	// open is the start (Unix ms) of the oldest minute that was still
	// open at the last write: sums of earlier minutes are written.
	open int64

	matched    *prometheus.CounterVec
	written    prometheus.Counter
	dropped    *prometheus.CounterVec
	notANumber prometheus.Counter // of dropped
	openSeries prometheus.Gauge
}

// series is one output series and its unwritten per-minute sums.
type series struct {
	tenant  string
	labels  labels.Labels
	ref     storage.SeriesRef // the TSDB's, set under flushMu
	sums    map[int64]float64 // by minute start, Unix ms
	written int64             // start of the last minute written, or math.MinInt64
	hour    int64             // the hour (Unix ms) it last counted towards its filter's limit
	touched int64             // last Observe that fed it, Unix ms of the server's clock
}

type usageKey struct{ tenant, filter string }

// usage counts a filter's series in one hour of the server's clock.
type usage struct {
	hour int64
	n    int
}

const minuteMs = int64(time.Minute / time.Millisecond)

// NewApplier returns an Applier; Run writes what Observe sums.
func NewApplier(opts ApplierOptions) *Applier {
	if opts.Grace <= 0 {
		opts.Grace = 5 * time.Second
	}
	if opts.Tick <= 0 {
		opts.Tick = 5 * time.Second
	}
	if opts.MaxSeriesPerFilter <= 0 {
		opts.MaxSeriesPerFilter = DefaultMaxSeriesPerFilter
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
		opts: opts, series: map[string]*series{}, usage: map[usageKey]*usage{}, open: math.MinInt64,
		matched: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_metric_filter_matched_records_total",
			Help: "Log records that matched a metric filter (once per filter), by tenant.",
		}, []string{"tenant"}),
		written: f.NewCounter(prometheus.CounterOpts{
			Name: "mirador_metric_filter_samples_written_total",
			Help: "Per-minute samples metric filters wrote to the TSDB.",
		}),
		dropped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_metric_filter_dropped_total",
			Help: "What metric filters did not record, by reason: not_a_number and too_many_series count records; refused (by the TSDB: duplicate, too old) and write_failed count samples.",
		}, []string{"reason"}),
		openSeries: f.NewGauge(prometheus.GaugeOpts{
			Name: "mirador_metric_filter_series",
			Help: "Series metric filters hold in memory: with sums to write, or fed within the last hour.",
		}),
	}
	a.notANumber = a.dropped.WithLabelValues("not_a_number")
	return a
}

// contribution is what one Observe call adds to one series' minute.
type contribution struct {
	key    string // series key, then minute
	f      *compiled
	dims   [MaxDimensions]string
	has    uint8 // bit i: dims[i] was extracted
	minute int64
	sum    float64
	n      int
	keyLen int // the series key is key[:keyLen]
}

// Observe applies the tenant's filters to records it has just stored, in
// their group's order. Matching runs outside the Applier's lock; a group
// without filters costs a map lookup. recs is not kept.
func (a *Applier) Observe(tenant string, recs []eventstore.Record) {
	var (
		index   map[string]int // into acc, by contribution.key
		acc     []contribution // in the order of the records
		key     []byte
		matched int
	)
	for start := 0; start < len(recs); {
		end := start + 1
		for end < len(recs) && recs[end].Group == recs[start].Group {
			end++
		}
		group := recs[start:end]
		start = end
		filters, err := a.opts.Store.filters(context.Background(), tenant, group[0].Group)
		if err != nil {
			a.opts.Logger.Warn("metric filters not applied: cannot read them", "tenant", tenant, "group", group[0].Group, "err", err)
			continue
		}
		if len(filters) == 0 {
			continue
		}
		if index == nil {
			index = map[string]int{}
		}
		for i := range group {
			r := &group[i]
			ev := filterpattern.Event{Message: r.Body}
			ev.Fields = func(path string) (eventstore.Value, bool) { return logs.RecordField(r, path) }
			minute := time.Unix(0, r.Time).Truncate(time.Minute).UnixMilli()
			for _, f := range filters {
				ok, x := f.pattern.MatchExtract(ev)
				var (
					v    float64
					dims [MaxDimensions]string
					has  uint8
				)
				switch {
				case ok:
					matched++
					if v, ok = f.valueOf(x); !ok {
						a.notANumber.Inc()
						continue
					}
					dims, has = f.dimsOf(x)
				case f.Transformations[0].DefaultValue != nil:
					v = *f.Transformations[0].DefaultValue
				default:
					continue
				}
				key = appendSeriesKey(key[:0], tenant, f, &dims, has)
				keyLen := len(key)
				key = binary.BigEndian.AppendUint64(key, uint64(minute))
				j, ok := index[string(key)]
				if !ok {
					j = len(acc)
					acc = append(acc, contribution{key: string(key), f: f, dims: dims, has: has, minute: minute, keyLen: keyLen})
					index[acc[j].key] = j
				}
				acc[j].sum += v
				acc[j].n++
			}
		}
	}
	if matched > 0 {
		a.matched.WithLabelValues(tenant).Add(float64(matched))
	}
	if len(acc) > 0 {
		a.add(tenant, acc)
	}
}

// appendSeriesKey appends what identifies a series: tenant, filter and
// dimension values, each length-prefixed so that no value can pass for
// another's.
func appendSeriesKey(b []byte, tenant string, f *compiled, dims *[MaxDimensions]string, has uint8) []byte {
	b = binary.AppendUvarint(b, uint64(len(tenant)))
	b = append(b, tenant...)
	b = binary.AppendUvarint(b, uint64(len(f.id)))
	b = append(b, f.id...)
	for i := range f.dims {
		if has&(1<<i) == 0 {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(dims[i]))+1)
		b = append(b, dims[i]...)
	}
	return b
}

// add sums one Observe call's contributions into the series.
func (a *Applier) add(tenant string, acc []contribution) {
	now := a.opts.Now()
	nowMs, hour := now.UnixMilli(), now.Truncate(time.Hour).UnixMilli()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range acc {
		c := &acc[i]
		k := c.key[:c.keyLen]
		s := a.series[k]
		if s == nil || s.hour != hour {
			if !a.admit(tenant, c.f, hour) {
				a.dropped.WithLabelValues("too_many_series").Add(float64(c.n))
				continue
			}
			if s == nil {
				s = &series{tenant: tenant, labels: c.f.labels(&c.dims, c.has), sums: map[int64]float64{}, written: math.MinInt64}
				a.series[k] = s
			}
			s.hour = hour
		}
		m := c.minute
		if m <= s.written {
			// Its minute is written already: count it in the oldest
			// minute still open, which keeps the series in time order.
			m = max(a.open, s.written+minuteMs)
		}
		s.sums[m] += c.sum
		s.touched = nowMs
	}
}

// admit counts a new series (or an old one in a new hour) towards its
// filter's limit, or refuses it (a.mu held).
func (a *Applier) admit(tenant string, f *compiled, hour int64) bool {
	k := usageKey{tenant, f.id}
	u := a.usage[k]
	if u == nil {
		u = &usage{}
		a.usage[k] = u
	}
	if u.hour != hour {
		u.hour, u.n = hour, 0
	}
	if u.n >= a.opts.MaxSeriesPerFilter {
		return false
	}
	u.n++
	return true
}
