package eval

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// vector builds a range from "0 - X": 0 a fine point (1), X a breaching
// one (5), - a missing period; the threshold is 3.
func vector(s string) []Point {
	var ps []Point
	for i, f := range strings.Fields(s) {
		p := Point{Time: t0.Add(time.Duration(i) * time.Minute)}
		switch f {
		case "0":
			p.Present, p.Value = true, 1
		case "X":
			p.Present, p.Value = true, 5
		}
		ps = append(ps, p)
	}
	return ps
}

// TestDocumentedMissingDataTable is the table of AWS's documentation
// ("Configuring how CloudWatch alarms treat missing data"), row for row:
// the outcome under missing, ignore, breaching and notBreaching. "keep"
// means the alarm keeps its state (checked from OK and from ALARM).
func TestDocumentedMissingDataTable(t *testing.T) {
	for _, row := range []struct {
		m, n   int
		points string
		want   [4]string
	}{
		{3, 3, "0 - X - X", [4]string{"OK", "OK", "OK", "OK"}},
		{3, 3, "0 - - - -", [4]string{"OK", "OK", "OK", "OK"}},
		{3, 3, "- - - - -", [4]string{"INSUFFICIENT_DATA", "keep", "ALARM", "OK"}},
		{3, 3, "0 X X - X", [4]string{"ALARM", "ALARM", "ALARM", "ALARM"}},
		{3, 3, "- - X - -", [4]string{"ALARM", "keep", "ALARM", "OK"}},
		{2, 3, "0 - X - X", [4]string{"ALARM", "ALARM", "ALARM", "ALARM"}},
		{2, 3, "0 0 X 0 X", [4]string{"ALARM", "ALARM", "ALARM", "ALARM"}},
		{2, 3, "0 - X - -", [4]string{"OK", "OK", "ALARM", "OK"}},
		{2, 3, "- - - - 0", [4]string{"OK", "OK", "ALARM", "OK"}},
		{2, 3, "- - - X -", [4]string{"ALARM", "keep", "ALARM", "OK"}},
		// Undocumented: a lone recent breach cannot make 3 of 3 yet.
		{3, 3, "- - - - X", [4]string{"keep", "keep", "ALARM", "OK"}},
	} {
		for i, treat := range []MissingData{Missing, Ignore, Breaching, NotBreaching} {
			c := Config{Comparison: GreaterThanOrEqual, Threshold: 3, EvaluationPeriods: row.n, DatapointsToAlarm: row.m, TreatMissingData: treat, Period: time.Minute}
			for _, current := range []State{OK, Alarm} {
				got := Evaluate(c, vector(row.points), current, t0.Add(5*time.Minute))
				want := State(row.want[i])
				if row.want[i] == "keep" {
					want = current
				}
				if got.State != want {
					t.Errorf("M=%d N=%d %q %s from %s: %s (%s), want %s", row.m, row.n, row.points, treat, current, got.State, got.Reason, want)
				}
				if got.Reason == "" || !json.Valid(got.ReasonData) {
					t.Errorf("%q %s: reason %q, data %s", row.points, treat, got.Reason, got.ReasonData)
				}
			}
		}
	}
}

func TestMOfNEdges(t *testing.T) {
	c := Config{Comparison: GreaterThan, Threshold: 3, EvaluationPeriods: 5, DatapointsToAlarm: 3, Period: time.Minute}
	for points, want := range map[string]State{
		"X X X 0 0 0 0": OK,    // two of the breaches are older than the last 5
		"0 0 0 0 X X X": Alarm, // exactly M
		"0 0 X 0 X 0 X": Alarm, // not consecutive
		"X X 0 0 X 0 X": OK,    // 2 of the last 5
		"0 0 0 X X X X": Alarm,
	} {
		if got := Evaluate(c, vector(points), OK, t0); got.State != want {
			t.Errorf("%q: %s, want %s", points, got.State, want)
		}
	}
	// At the threshold: > does not breach, >= does.
	at := []Point{{Time: t0, Present: true, Value: 3}}
	one := Config{Comparison: GreaterThan, Threshold: 3, EvaluationPeriods: 1, Period: time.Minute}
	if Evaluate(one, at, OK, t0).State != OK {
		t.Error("3 > 3")
	}
	one.Comparison = GreaterThanOrEqual
	if Evaluate(one, at, OK, t0).State != Alarm {
		t.Error("3 >= 3")
	}
	one.Comparison = LessThanOrEqual
	if Evaluate(one, at, OK, t0).State != Alarm {
		t.Error("3 <= 3")
	}
}

func TestAnomalyBands(t *testing.T) {
	p := func(v float64) []Point { return []Point{{Time: t0, Present: true, Value: v, Lower: 10, Upper: 20}} }
	for _, tc := range []struct {
		cmp  Comparison
		v    float64
		want State
	}{
		{OutsideBand, 5, Alarm}, {OutsideBand, 25, Alarm}, {OutsideBand, 15, OK}, {OutsideBand, 20, OK},
		{BelowBand, 5, Alarm}, {BelowBand, 25, OK}, {AboveBand, 25, Alarm}, {AboveBand, 5, OK},
	} {
		c := Config{Comparison: tc.cmp, EvaluationPeriods: 1, Period: time.Minute}
		if got := Evaluate(c, p(tc.v), OK, t0); got.State != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.cmp, tc.v, got.State, tc.want)
		}
	}
}

func TestReasonTextAndData(t *testing.T) {
	c := Config{Comparison: GreaterThan, Threshold: 50, EvaluationPeriods: 1, Period: 5 * time.Minute, Statistic: "Average"}
	when := time.Date(2019, 10, 2, 16, 59, 0, 0, time.UTC)
	got := Evaluate(c, []Point{{Time: when, Present: true, Value: 99.5}}, OK, when.Add(5*time.Minute))
	want := "Threshold Crossed: 1 out of the last 1 datapoints [99.5 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)."
	if got.State != Alarm || got.Reason != want {
		t.Errorf("reason\n got %s\nwant %s", got.Reason, want)
	}
	var data struct {
		Version          string
		QueryDate        string
		StartDate        string
		Statistic        string
		Period           int
		RecentDatapoints []float64
		Threshold        float64
	}
	if err := json.Unmarshal(got.ReasonData, &data); err != nil || data.Version != "1.0" || data.Statistic != "Average" || data.Period != 300 ||
		len(data.RecentDatapoints) != 1 || data.RecentDatapoints[0] != 99.5 || data.Threshold != 50 ||
		data.QueryDate != "2019-10-02T17:04:00.000+0000" || data.StartDate != "2019-10-02T16:59:00.000+0000" {
		t.Errorf("reason data %s (%v)", got.ReasonData, err)
	}
	back := Evaluate(c, []Point{{Time: when, Present: true, Value: 10}}, Alarm, when)
	if back.State != OK || !strings.Contains(back.Reason, "1 out of the last 1 datapoints [10.0 (02/10/19 16:59:00)] was not greater than the threshold (50.0)") ||
		!strings.Contains(back.Reason, "ALARM -> OK") {
		t.Errorf("OK reason: %s", back.Reason)
	}
	insufficient := Evaluate(Config{Comparison: GreaterThan, EvaluationPeriods: 3, Period: time.Minute}, vector("- - - - -"), OK, t0)
	if insufficient.Reason != "Insufficient Data: 3 datapoints were unknown." {
		t.Errorf("insufficient reason %q", insufficient.Reason)
	}
}

func TestLowSampleCount(t *testing.T) {
	for _, tc := range []struct {
		p, samples float64
		skip       bool
	}{
		{0.99, 999, true}, {0.99, 1000, false}, {0.5, 19, true}, {0.5, 20, false}, {0.1, 99, true}, {0.1, 100, false}, {0.25, 39, true},
	} {
		if got := LowSampleCount(tc.p, tc.samples); got != tc.skip {
			t.Errorf("p%v with %v samples: skip %v, want %v", tc.p*100, tc.samples, got, tc.skip)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Comparison: GreaterThan, EvaluationPeriods: 3, DatapointsToAlarm: 2, Period: time.Minute, TreatMissingData: Breaching}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Comparison = "Bigger" }, "ComparisonOperator"},
		{func(c *Config) { c.EvaluationPeriods = 0 }, "EvaluationPeriods"},
		{func(c *Config) { c.DatapointsToAlarm = 4 }, "DatapointsToAlarm"},
		{func(c *Config) { c.TreatMissingData = "zero" }, "TreatMissingData"},
		{func(c *Config) { c.Period = 0 }, "Period"},
		{func(c *Config) { c.EvaluationPeriods, c.DatapointsToAlarm, c.Period = 1441, 1, time.Minute }, "must not exceed 24h0m0s"},
	} {
		c := ok
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", c, err, tc.want)
		}
	}
	week := Config{Comparison: GreaterThan, EvaluationPeriods: 168, Period: time.Hour}
	if err := week.Validate(); err != nil {
		t.Errorf("7 days of hourly periods: %v", err)
	}
}

// BenchmarkEvaluate is the decision alone, per alarm (fetching the
// datapoints is not included).
func BenchmarkEvaluate(b *testing.B) {
	c := Config{Comparison: GreaterThan, Threshold: 3, EvaluationPeriods: 3, DatapointsToAlarm: 2, Period: time.Minute, TreatMissingData: Missing}
	points := vector("0 - X 0 X")
	b.ReportAllocs()
	for range b.N {
		if Evaluate(c, points, OK, t0).State != Alarm {
			b.Fatal("wrong state")
		}
	}
}
