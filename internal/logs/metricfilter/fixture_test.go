package metricfilter

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/meta"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func ptr[T any](v T) *T { return &v }

// tsdb records what an Applier writes, per tenant, and refuses what a
// TSDB without an out-of-order window refuses: a sample not after the
// series' last one.
type tsdb struct {
	mu      sync.Mutex
	samples map[string][]point // by tenant + " " + series text
	fail    error              // returned by the next Appender call
}

type point struct {
	T int64
	V float64
}

func newTSDB() *tsdb { return &tsdb{samples: map[string][]point{}} }

func (db *tsdb) Appender(_ context.Context, tenant string) (storage.AppenderV2, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.fail; err != nil {
		db.fail = nil
		return nil, err
	}
	return &appender{db: db, tenant: tenant}, nil
}

// get returns the samples of a tenant's series.
func (db *tsdb) get(tenant, series string) []point {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.samples[tenant+" "+series]
}

// all lists every series written, for failure messages.
func (db *tsdb) all() string {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []string
	for k, ps := range db.samples {
		out = append(out, fmt.Sprintf("%s %v", k, ps))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

type appender struct {
	db      *tsdb
	tenant  string
	pending map[string][]point
}

func (a *appender) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, _ *histogram.Histogram, _ *histogram.FloatHistogram, _ storage.AOptions) (storage.SeriesRef, error) {
	k := a.tenant + " " + ls.String()
	a.db.mu.Lock()
	last := a.db.samples[k]
	a.db.mu.Unlock()
	if p := a.pending[k]; len(p) > 0 {
		last = p
	}
	if n := len(last); n > 0 && t <= last[n-1].T {
		if t == last[n-1].T {
			return 0, storage.ErrDuplicateSampleForTimestamp
		}
		return 0, storage.ErrOutOfOrderSample
	}
	if a.pending == nil {
		a.pending = map[string][]point{}
	}
	a.pending[k] = append(a.pending[k], point{t, v})
	return 1, nil
}

func (a *appender) Commit() error {
	a.db.mu.Lock()
	defer a.db.mu.Unlock()
	for k, ps := range a.pending {
		a.db.samples[k] = append(a.db.samples[k], ps...)
	}
	return nil
}

func (a *appender) Rollback() error { a.pending = nil; return nil }

type fixture struct {
	store   *Store
	applier *Applier
	db      *tsdb
	clock   *clock
	reg     *prometheus.Registry
	t0      time.Time // a minute boundary, ten minutes ago
}

// newFixture opens a meta store with tenants acme and other, and an
// Applier writing to a recording TSDB, its clock at t0.
func newFixture(t testing.TB, opts ...func(*ApplierOptions)) *fixture {
	t.Helper()
	m := openMeta(t)
	t0 := time.Now().Truncate(time.Minute).Add(-10 * time.Minute)
	f := &fixture{store: NewStore(m.DB(), nil), db: newTSDB(), clock: &clock{t: t0}, reg: prometheus.NewRegistry(), t0: t0}
	o := ApplierOptions{Store: f.store, Appender: f.db.Appender, Now: f.clock.Now, Registerer: f.reg}
	for _, fn := range opts {
		fn(&o)
	}
	f.applier = NewApplier(o)
	return f
}

func openMeta(t testing.TB) *meta.Store {
	t.Helper()
	m, err := meta.Open(context.Background(), meta.Options{DSN: filepath.Join(t.TempDir(), "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, id := range []string{"acme", "other"} {
		if _, err := m.DB().Exec(`INSERT INTO tenants (id, created_at) VALUES ($1, 1)`, id); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (f *fixture) put(t testing.TB, tenant string, flt Filter) {
	t.Helper()
	if err := f.store.Put(context.Background(), tenant, flt); err != nil {
		t.Fatal(err)
	}
}

// minute returns the timestamp the sum of the minute starting at m gets.
func minute(m time.Time) int64 { return m.UnixMilli() + minuteMs - 1 }

// rec is a record of group at a time; attrs are key, value pairs, typed
// as NDJSON ingest types them (integers become ints).
func rec(group string, at time.Time, body string, attrs ...string) eventstore.Record {
	r := eventstore.Record{Time: at.UnixNano(), Group: group, Body: body}
	for i := 0; i+1 < len(attrs); i += 2 {
		v := eventstore.StringValue(attrs[i+1])
		if n, err := strconv.ParseInt(attrs[i+1], 10, 64); err == nil {
			v = eventstore.Value{Kind: eventstore.KindInt, Int: n}
		}
		r.Attributes = append(r.Attributes, eventstore.Attr{Key: attrs[i], Value: v})
	}
	return r
}

func filter(name, group, pattern string, t Transformation) Filter {
	return Filter{Name: name, LogGroup: group, Pattern: pattern, Transformations: []Transformation{t}}
}
