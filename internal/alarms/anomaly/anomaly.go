// Package anomaly learns a per-series baseline with daily and weekly
// seasonality and gives the band an anomaly alarm compares with, as
// CloudWatch's ANOMALY_DETECTION_BAND(m, k) does.
//
// The model keeps, for each of the 168 hours of the week and for each of
// the 24 hours of the day, an exponentially weighted mean and variance of
// the series (the weight halves every HalfLife observations of that slot,
// so the model follows drift). A prediction uses the hour-of-week slot
// once it has seen MinWeekly observations, else the hour-of-day slot,
// else the overall statistics; the band is mean ± k·σ, with σ floored at
// the noise level pooled over all slots (relative to the mean) and at a
// fraction of the mean's magnitude, so a short slot history or a
// perfectly flat series does not alarm on noise, and clamped to [Min, Max] when set (e.g. 0 for counts,
// 0–100 for percentages).
//
// Observations outside the band learn with a reduced weight, so an
// incident does not teach the model that the incident is normal.
package anomaly

import (
	"math"
	"time"
)

// Options tune a Model; zero values take the defaults.
type Options struct {
	HalfLife       float64 // observations per slot for a weight to halve (default 8)
	MinWeekly      int     // observations of an hour-of-week slot before it is used (default 3)
	MinDaily       int     // observations of an hour-of-day slot before it is used (default 3)
	SigmaFloor     float64 // σ at least this fraction of |mean| (default 0.02)
	OutlierWeight  float64 // learning weight of points outside the 3σ band (default 0.1)
	Location       *time.Location
	Min, Max       float64 // clamp of the band; ignored when Min >= Max
	MinObservation int     // total observations before any band is given (default 24)
}

// Model is one series' baseline. It is not safe for concurrent use.
type Model struct {
	opts   Options
	weekly [168]stat
	daily  [24]stat
	all    stat
	// relSq is the mean squared relative error of predictions, pooled
	// over every slot: a few dozen points per slot estimate a slot's σ
	// poorly, thousands of pooled residuals estimate the noise well.
	relSq, relN float64
}

type stat struct {
	n    int
	mean float64
	m2   float64 // weighted variance
}

func (s *stat) add(x, alpha float64) {
	s.n++
	if s.n == 1 {
		s.mean, s.m2 = x, 0
		return
	}
	d := x - s.mean
	s.mean += alpha * d
	s.m2 = (1 - alpha) * (s.m2 + alpha*d*d)
}

func (s *stat) sigma() float64 { return math.Sqrt(s.m2) }

// New returns an empty model.
func New(opts Options) *Model {
	if opts.HalfLife <= 0 {
		opts.HalfLife = 8
	}
	if opts.MinWeekly <= 0 {
		opts.MinWeekly = 3
	}
	if opts.MinDaily <= 0 {
		opts.MinDaily = 3
	}
	if opts.SigmaFloor <= 0 {
		opts.SigmaFloor = 0.02
	}
	if opts.OutlierWeight <= 0 {
		opts.OutlierWeight = 0.1
	}
	if opts.MinObservation <= 0 {
		opts.MinObservation = 24
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	return &Model{opts: opts}
}

func (m *Model) slots(t time.Time) (week, day int) {
	t = t.In(m.opts.Location)
	return int(t.Weekday())*24 + t.Hour(), t.Hour()
}

// alpha is the learning rate of a slot that has seen n observations: a
// plain mean at first, then an exponential one.
func (m *Model) alpha(n int) float64 {
	return math.Max(1/float64(n+1), 1-math.Pow(0.5, 1/m.opts.HalfLife))
}

// Observe learns one value of the series at time t.
func (m *Model) Observe(t time.Time, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	weight := 1.0
	if mean, sigma, ok := m.expect(t); ok {
		if math.Abs(v-mean) > 3*sigma {
			weight = m.opts.OutlierWeight
		} else if mean != 0 {
			r := (v - mean) / mean
			m.relN++
			m.relSq += (r*r - m.relSq) / math.Min(m.relN, pooledWindow)
		}
	}
	w, d := m.slots(t)
	for _, s := range []*stat{&m.weekly[w], &m.daily[d], &m.all} {
		s.add(v, weight*m.alpha(s.n))
	}
}

func (m *Model) expect(t time.Time) (mean, sigma float64, ok bool) {
	if m.all.n < m.opts.MinObservation {
		return 0, 0, false
	}
	w, d := m.slots(t)
	s := &m.all
	switch {
	case m.weekly[w].n >= m.opts.MinWeekly:
		s = &m.weekly[w]
	case m.daily[d].n >= m.opts.MinDaily:
		s = &m.daily[d]
	}
	sigma = max(s.sigma(), math.Sqrt(m.relSq)*math.Abs(s.mean), m.opts.SigmaFloor*math.Abs(s.mean))
	return s.mean, sigma, true
}

// pooledWindow is how many recent residuals the pooled noise estimate
// averages over.
const pooledWindow = 2000

// Band returns the expected value at t and the band mean ± k·σ; ok is
// false until the model has seen enough data (CloudWatch's
// PENDING_TRAINING).
func (m *Model) Band(t time.Time, k float64) (lower, expected, upper float64, ok bool) {
	mean, sigma, ok := m.expect(t)
	if !ok {
		return 0, 0, 0, false
	}
	lower, upper = mean-k*sigma, mean+k*sigma
	if m.opts.Min < m.opts.Max {
		lower, upper = clamp(lower, m.opts.Min, m.opts.Max), clamp(upper, m.opts.Min, m.opts.Max)
	}
	return lower, mean, upper, true
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// Trained reports whether the model gives bands.
func (m *Model) Trained() bool { return m.all.n >= m.opts.MinObservation }
