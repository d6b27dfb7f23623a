package metricfilter

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/prometheus/prometheus/storage"
)

// idleSeries is how long a series without sums is remembered: its last
// written minute keeps late records in time order, its hour its place
// under its filter's limit.
const idleSeries = time.Hour

// Run writes the sums of each minute once it has closed (its end plus
// Grace), and at least every Tick those of older minutes that late
// records fed, until ctx ends; then it writes every sum it holds, the open
// minutes' included, and returns. Stop Run before the TSDB closes.
func (a *Applier) Run(ctx context.Context) {
	timer := time.NewTimer(a.untilNextWrite())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			a.FlushAll(context.WithoutCancel(ctx))
			return
		case <-timer.C:
			a.FlushClosed(ctx)
			timer.Reset(a.untilNextWrite())
		}
	}
}

// untilNextWrite is the wait until the next minute's end plus Grace, or
// Tick if that is sooner.
func (a *Applier) untilNextWrite() time.Duration {
	now := a.opts.Now()
	due := now.Add(-a.opts.Grace).Truncate(time.Minute).Add(time.Minute + a.opts.Grace)
	d := min(due.Sub(now), a.opts.Tick)
	return max(d, 10*time.Millisecond)
}

// FlushClosed writes the sums of minutes that ended at least Grace ago.
func (a *Applier) FlushClosed(ctx context.Context) { a.flush(ctx, false) }

// FlushAll writes every sum, those of minutes still open included (a
// partial minute: use it when stopping).
func (a *Applier) FlushAll(ctx context.Context) { a.flush(ctx, true) }

// sample is one per-minute sum on its way to the TSDB.
type sample struct {
	s *series
	t int64
	v float64
}

func (a *Applier) flush(ctx context.Context, all bool) {
	a.flushMu.Lock() // one flush at a time: each series' samples in order
	defer a.flushMu.Unlock()
	now := a.opts.Now()
	closed := now.Add(-a.opts.Grace).Truncate(time.Minute).UnixMilli() // minutes before it are closed
	idleBefore := now.Add(-idleSeries).UnixMilli()
	byTenant := map[string][]sample{}
	a.mu.Lock()
	a.open = max(a.open, closed)
	for k, s := range a.series {
		first := len(byTenant[s.tenant])
		for m, v := range s.sums {
			if all || m < closed {
				// Dated at the minute's last millisecond: a range of a
				// minute ending at the next minute boundary, as an alarm
				// evaluates it, holds it (ranges are left-open).
				byTenant[s.tenant] = append(byTenant[s.tenant], sample{s, m + minuteMs - 1, v})
				delete(s.sums, m)
				s.written = max(s.written, m)
			}
		}
		// A series' samples go in time order.
		ss := byTenant[s.tenant][first:]
		slices.SortFunc(ss, func(x, y sample) int { return cmp.Compare(x.t, y.t) })
		if len(s.sums) == 0 && s.touched < idleBefore {
			delete(a.series, k)
		}
	}
	hour := now.Truncate(time.Hour).UnixMilli()
	for k, u := range a.usage {
		if u.hour != hour {
			delete(a.usage, k)
		}
	}
	a.openSeries.Set(float64(len(a.series)))
	a.mu.Unlock()

	// Written outside a.mu, so that ingest does not wait for the TSDB;
	// series refs are only touched under flushMu.
	for tenant, ss := range byTenant {
		if len(ss) > 0 {
			a.write(ctx, tenant, ss)
		}
	}
}

// write appends one tenant's samples in one commit.
func (a *Applier) write(ctx context.Context, tenant string, ss []sample) {
	app, err := a.opts.Appender(ctx, tenant)
	if err != nil {
		a.opts.Logger.Warn("metric filter samples lost: no TSDB appender", "tenant", tenant, "samples", len(ss), "err", err)
		a.dropped.WithLabelValues("write_failed").Add(float64(len(ss)))
		return
	}
	n := 0
	for _, s := range ss {
		ref, err := app.Append(s.s.ref, s.s.labels, 0, s.t, s.v, nil, nil, storage.AOptions{})
		if err != nil {
			a.opts.Logger.Debug("metric filter sample refused", "tenant", tenant, "series", s.s.labels.String(), "t", s.t, "err", err)
			a.dropped.WithLabelValues("refused").Inc()
			continue
		}
		s.s.ref = ref
		n++
	}
	if err := app.Commit(); err != nil {
		a.opts.Logger.Warn("metric filter samples lost: commit failed", "tenant", tenant, "samples", n, "err", err)
		a.dropped.WithLabelValues("write_failed").Add(float64(n))
		return
	}
	a.written.Add(float64(n))
}
