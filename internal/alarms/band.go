package alarms

import (
	"context"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/alarms/anomaly"
	"github.com/miradorhq/mirador/internal/alarms/eval"
)

// Names of the series the anomaly band is written as, with label alarm,
// so it can be graphed next to the metric with PromQL.
const (
	BandLowerMetric    = "mirador_alarm_anomaly_band_lower"
	BandUpperMetric    = "mirador_alarm_anomaly_band_upper"
	BandExpectedMetric = "mirador_alarm_anomaly_band_expected"
)

// trainingWindow is how much history a new band model learns from, as
// CloudWatch's (two weeks); trainingMaxPoints bounds that for short periods.
const (
	trainingWindow    = 14 * 24 * time.Hour
	trainingMaxPoints = 11000
)

// bandModel is an anomaly-band alarm's baseline in memory. It is rebuilt
// from the TSDB's history when the server starts or the alarm changes: the
// metric's own history is the model's durable state.
type bandModel struct {
	model    *anomaly.Model
	observed time.Time // the newest datapoint learnt
}

// band computes the band of each point and teaches the model the points
// it has not seen, after using them (a point never widens its own band).
func (s *Service) band(ctx context.Context, e *entry, a *Alarm, points []eval.Point, end time.Time) error {
	if e.band == nil {
		m := anomaly.New(anomaly.Options{Min: a.AnomalyBand.Min, Max: a.AnomalyBand.Max})
		p := a.Period()
		start := end.Add(-trainingWindow)
		if n := trainingWindow / p; n > trainingMaxPoints {
			start = end.Add(-trainingMaxPoints * p)
		}
		mx, err := s.opts.Metrics.QueryRange(ctx, e.tenant, a.Expr(), start, points[0].Time, p)
		if err != nil {
			return err
		}
		b := &bandModel{model: m}
		if len(mx) == 1 {
			for _, f := range mx[0].Floats {
				t := time.UnixMilli(f.T).Add(-p)
				m.Observe(t, f.F)
				b.observed = t
			}
		}
		e.band = b
	}
	b := e.band
	for i := range points {
		pt := &points[i]
		lo, _, hi, ok := b.model.Band(pt.Time, a.AnomalyBand.StdDevs)
		if !ok {
			pt.Present = false // no band yet: the datapoint cannot be judged
			continue
		}
		pt.Lower, pt.Upper = lo, hi
	}
	for _, pt := range points {
		if pt.Time.After(b.observed) && pt.Present {
			b.model.Observe(pt.Time, pt.Value)
			b.observed = pt.Time
		}
	}
	s.writeBand(ctx, e.tenant, a, b, end)
	return nil
}

// writeBand appends the band at t as three series.
func (s *Service) writeBand(ctx context.Context, tenant string, a *Alarm, b *bandModel, t time.Time) {
	lo, mid, hi, ok := b.model.Band(t, a.AnomalyBand.StdDevs)
	if !ok {
		return
	}
	app, err := s.opts.Metrics.Appender(ctx, tenant)
	if err != nil {
		return
	}
	ts := t.UnixMilli()
	for _, v := range []struct {
		name string
		v    float64
	}{{BandLowerMetric, lo}, {BandExpectedMetric, mid}, {BandUpperMetric, hi}} {
		ls := labels.FromStrings(model.MetricNameLabel, v.name, "alarm", a.Name)
		if _, err := app.Append(0, ls, 0, ts, v.v, nil, nil, storage.AOptions{}); err != nil {
			_ = app.Rollback()
			s.opts.Logger.Debug("write anomaly band", "alarm", a.Name, "err", err)
			return
		}
	}
	if err := app.Commit(); err != nil {
		s.opts.Logger.Debug("write anomaly band", "alarm", a.Name, "err", err)
	}
}
