package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// seasonal is a request rate with a daily cycle (busy afternoons), quiet
// weekends and noise.
func seasonal(t time.Time, rng *rand.Rand) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	daily := 100 + 60*math.Sin((h-9)/24*2*math.Pi)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		daily *= 0.4
	}
	return daily * (1 + 0.05*rng.NormFloat64())
}

// TestSeasonalDataWithInjectedAnomalies trains on two weeks of 5-minute
// points, then scores three more weeks with 2 % of points spiked (×1.5)
// or dropped (×0.5):
// precision and recall of "outside the band (k=3)" against the injected
// points.
func TestSeasonalDataWithInjectedAnomalies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := New(Options{Min: 0})
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	step := 5 * time.Minute
	ts := start
	for ; ts.Before(start.Add(14 * 24 * time.Hour)); ts = ts.Add(step) {
		m.Observe(ts, seasonal(ts, rng))
	}
	var tp, fp, fn, tn int
	for end := ts.Add(21 * 24 * time.Hour); ts.Before(end); ts = ts.Add(step) {
		v := seasonal(ts, rng)
		injected := rng.IntN(50) == 0
		if injected {
			if rng.IntN(2) == 0 {
				v *= 1.5 // spike
			} else {
				v *= 0.5 // drop
			}
		}
		lower, _, upper, ok := m.Band(ts, 3)
		if !ok {
			t.Fatal("not trained after two weeks")
		}
		flagged := v < lower || v > upper
		switch {
		case flagged && injected:
			tp++
		case flagged:
			fp++
		case injected:
			fn++
		default:
			tn++
		}
		m.Observe(ts, v)
	}
	precision, recall := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
	t.Logf("weeks 3-5: %d anomalies injected; precision %.2f, recall %.2f (tp %d, fp %d, fn %d, tn %d)", tp+fn, precision, recall, tp, fp, fn, tn)
	if precision < 0.9 || recall < 0.95 {
		t.Errorf("precision %.2f, recall %.2f: want ≥ 0.9 and ≥ 0.95", precision, recall)
	}
}

func TestBandFollowsSeasonality(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := New(Options{})
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for ts := start; ts.Before(start.Add(14 * 24 * time.Hour)); ts = ts.Add(5 * time.Minute) {
		m.Observe(ts, seasonal(ts, rng))
	}
	_, peak, _, _ := m.Band(time.Date(2026, 11, 18, 15, 0, 0, 0, time.UTC), 2)    // Wednesday afternoon
	_, night, _, _ := m.Band(time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC), 2)    // Wednesday night
	_, weekend, _, _ := m.Band(time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC), 2) // Saturday afternoon
	if !(peak > 1.8*night && weekend < 0.6*peak) {
		t.Errorf("expected values: weekday peak %.0f, night %.0f, weekend peak %.0f", peak, night, weekend)
	}
}

func TestPendingTrainingAndClamp(t *testing.T) {
	m := New(Options{Min: 0, Max: 100, MinObservation: 5})
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	if _, _, _, ok := m.Band(t0, 2); ok || m.Trained() {
		t.Fatal("a band before any data")
	}
	for i, v := range []float64{98, 99, 100, 97, 99, 100} {
		m.Observe(t0.Add(time.Duration(i)*time.Hour), v)
	}
	lower, _, upper, ok := m.Band(t0.Add(6*time.Hour), 5)
	if !ok || upper > 100 || lower < 0 || lower >= upper {
		t.Errorf("clamped band [%v, %v] ok=%v", lower, upper, ok)
	}
	m.Observe(t0, math.NaN()) // ignored
	if _, e, _, _ := m.Band(t0.Add(6*time.Hour), 5); math.IsNaN(e) {
		t.Error("NaN learned")
	}
}
