// Package eval decides a metric alarm's state from its recent datapoints
// with CloudWatch's semantics: M out of N datapoints, the four treatments
// of missing data, the threshold and anomaly-band comparisons, and the
// reason text and reason data CloudWatch writes.
//
// The rules for partial data reproduce every example AWS documents (the
// table in "Configuring how CloudWatch alarms treat missing data"); where
// AWS leaves the outcome undocumented, the alarm keeps its state.
package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// State is an alarm state.
type State string

// Alarm states.
const (
	OK               State = "OK"
	Alarm            State = "ALARM"
	InsufficientData State = "INSUFFICIENT_DATA"
)

// Comparison is a ComparisonOperator.
type Comparison string

// Comparison operators; the last three compare with an anomaly band.
const (
	GreaterThanOrEqual Comparison = "GreaterThanOrEqualToThreshold"
	GreaterThan        Comparison = "GreaterThanThreshold"
	LessThan           Comparison = "LessThanThreshold"
	LessThanOrEqual    Comparison = "LessThanOrEqualToThreshold"
	OutsideBand        Comparison = "LessThanLowerOrGreaterThanUpperThreshold"
	BelowBand          Comparison = "LessThanLowerThreshold"
	AboveBand          Comparison = "GreaterThanUpperThreshold"
)

// rangeExtension is how many periods beyond N an evaluation looks back.
const rangeExtension = 2

// Comparisons lists the valid operators.
var Comparisons = []Comparison{GreaterThanOrEqual, GreaterThan, LessThan, LessThanOrEqual, OutsideBand, BelowBand, AboveBand}

// Band reports whether c compares with an anomaly band.
func (c Comparison) Band() bool { return c == OutsideBand || c == BelowBand || c == AboveBand }

// MissingData is a TreatMissingData value.
type MissingData string

// Treatments of missing data.
const (
	Missing      MissingData = "missing"
	Ignore       MissingData = "ignore"
	Breaching    MissingData = "breaching"
	NotBreaching MissingData = "notBreaching"
)

// Config is what evaluation needs of an alarm.
type Config struct {
	Comparison        Comparison
	Threshold         float64 // for the threshold comparisons
	EvaluationPeriods int     // N
	DatapointsToAlarm int     // M, 1..N; 0 means N
	TreatMissingData  MissingData
	Period            time.Duration
	Statistic         string // for the reason data, e.g. "Average"
}

// Validate reports what is wrong with c, naming the field.
func (c Config) Validate() error {
	switch {
	case !validComparison(c.Comparison):
		return fmt.Errorf("ComparisonOperator %q: want one of %v", c.Comparison, Comparisons)
	case c.EvaluationPeriods < 1:
		return fmt.Errorf("EvaluationPeriods %d: must be at least 1", c.EvaluationPeriods)
	case c.DatapointsToAlarm < 0 || c.DatapointsToAlarm > c.EvaluationPeriods:
		return fmt.Errorf("DatapointsToAlarm %d: must be from 1 to EvaluationPeriods (%d)", c.DatapointsToAlarm, c.EvaluationPeriods)
	case c.TreatMissingData != "" && c.TreatMissingData != Missing && c.TreatMissingData != Ignore && c.TreatMissingData != Breaching && c.TreatMissingData != NotBreaching:
		return fmt.Errorf("TreatMissingData %q: want missing, ignore, breaching or notBreaching", c.TreatMissingData)
	case c.Period <= 0:
		return fmt.Errorf("Period %s: must be positive", c.Period)
	case math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0):
		return fmt.Errorf("Threshold %v: must be a finite number", c.Threshold)
	}
	limit := 24 * time.Hour
	if c.Period >= time.Hour {
		limit = 7 * 24 * time.Hour
	}
	if time.Duration(c.EvaluationPeriods)*c.Period > limit {
		return fmt.Errorf("Period × EvaluationPeriods = %s: must not exceed %s", time.Duration(c.EvaluationPeriods)*c.Period, limit)
	}
	return nil
}

func validComparison(c Comparison) bool {
	for _, v := range Comparisons {
		if c == v {
			return true
		}
	}
	return false
}

// RangePeriods is how many recent periods an evaluation looks at: the N
// periods and, to see past gaps, two more (AWS's example evaluates N=3
// over 5).
func (c Config) RangePeriods() int { return c.EvaluationPeriods + rangeExtension }

// Point is one period of the evaluation range: its start and, if the
// metric had data then, its value (and for band comparisons the band).
type Point struct {
	Time         time.Time
	Present      bool
	Value        float64
	Lower, Upper float64 // the anomaly band, for band comparisons
}

// Result is an evaluation's outcome.
type Result struct {
	State      State
	Reason     string          // StateReason
	ReasonData json.RawMessage // StateReasonData
}

func (c Config) breaches(p Point) bool {
	switch c.Comparison {
	case GreaterThanOrEqual:
		return p.Value >= c.Threshold
	case GreaterThan:
		return p.Value > c.Threshold
	case LessThan:
		return p.Value < c.Threshold
	case LessThanOrEqual:
		return p.Value <= c.Threshold
	case OutsideBand:
		return p.Value < p.Lower || p.Value > p.Upper
	case BelowBand:
		return p.Value < p.Lower
	case AboveBand:
		return p.Value > p.Upper
	}
	return false
}

// Evaluate decides the state from the range's points, oldest first (see
// RangePeriods), given the alarm's current state. now is the evaluation
// time, for the reason data.
func Evaluate(c Config, points []Point, current State, now time.Time) Result {
	n, m := c.EvaluationPeriods, c.DatapointsToAlarm
	if m == 0 {
		m = n
	}
	treat := c.TreatMissingData
	if treat == "" {
		treat = Missing
	}
	var real []Point // present points, newest first
	for i := len(points) - 1; i >= 0; i-- {
		if points[i].Present {
			real = append(real, points[i])
		}
	}
	keep := func(why string) Result {
		return Result{State: current, Reason: why, ReasonData: c.reasonData(points, nil, now)}
	}
	decide := func(used []Point, fillers int, fillerBreaches bool) Result {
		breaching := 0
		for _, p := range used {
			if c.breaches(p) {
				breaching++
			}
		}
		if fillerBreaches {
			breaching += fillers
		}
		state := OK
		if breaching >= m {
			state = Alarm
		}
		return Result{State: state, Reason: c.reason(state, used, breaching, fillers, treat, m, current), ReasonData: c.reasonData(points, used, now)}
	}
	switch {
	case len(real) >= n:
		return decide(real[:n], 0, false)
	case len(real) == 0:
		switch treat {
		case Ignore:
			return keep(fmt.Sprintf("no datapoints in the last %d periods; missing data is ignored, so the state is kept", len(points)))
		case Breaching:
			return decide(nil, n, true)
		case NotBreaching:
			return decide(nil, n, false)
		}
		return Result{State: InsufficientData, Reason: fmt.Sprintf("Insufficient Data: %d datapoints were unknown.", n), ReasonData: c.reasonData(points, nil, now)}
	case treat == Breaching || treat == NotBreaching:
		return decide(real, n-len(real), treat == Breaching)
	}
	// Some data, fewer than N points, missing data missing or ignored.
	breaching := 0
	for _, p := range real {
		if c.breaches(p) {
			breaching++
		}
	}
	switch {
	case breaching >= m:
		return decide(real, 0, false)
	case breaching < len(real):
		return decide(real, 0, false) // a real point is fine: OK
	}
	// Every real point breaches, but fewer than M of them. AWS alarms when
	// the oldest breach is at least M periods back from the newest end of
	// the range (it cannot become M of N in time otherwise).
	oldest := 0
	for i := len(points) - 1; i >= 0; i-- {
		if points[i].Present {
			oldest = len(points) - i
		}
	}
	if oldest >= m && treat == Missing {
		res := decide(real, 0, false)
		res.State = Alarm
		res.Reason = c.reason(Alarm, real, breaching, 0, treat, m, current)
		return res
	}
	return keep(fmt.Sprintf("%d of the last %d datapoints breach, fewer than the %d needed, and the rest are missing; the state is kept until more data arrives", breaching, len(points), m))
}

// LowSampleCount reports whether a percentile alarm with
// EvaluateLowSampleCountPercentile=ignore must skip evaluation: fewer
// samples than 10/(1−p) for p ≥ 0.5, or 10/p below.
func LowSampleCount(p float64, samples float64) bool {
	if p <= 0 || p >= 1 {
		return false
	}
	need := 10 / p
	if p >= 0.5 {
		need = 10 / (1 - p)
	}
	return samples < need
}

var comparisonWords = map[Comparison]string{
	GreaterThanOrEqual: "greater than or equal to the threshold",
	GreaterThan:        "greater than the threshold",
	LessThan:           "less than the threshold",
	LessThanOrEqual:    "less than or equal to the threshold",
	OutsideBand:        "outside the band",
	BelowBand:          "less than the lower threshold",
	AboveBand:          "greater than the upper threshold",
}

// reason writes CloudWatch's StateReason, e.g. "Threshold Crossed: 1 out
// of the last 1 datapoints [99.5 (02/10/19 16:59:00)] was greater than the
// threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)."
func (c Config) reason(state State, used []Point, breaching, fillers int, treat MissingData, m int, from State) string {
	var b strings.Builder
	shown := used
	if state == Alarm {
		shown = shown[:0:0]
		for _, p := range used {
			if c.breaches(p) {
				shown = append(shown, p)
			}
		}
	}
	points := make([]string, len(shown))
	for i, p := range shown {
		points[i] = formatValue(p.Value) + " (" + p.Time.UTC().Format("02/01/06 15:04:05") + ")"
	}
	total := len(used) + fillers
	verb, not := "were", ""
	if len(shown) == 1 {
		verb = "was"
	}
	count := breaching
	if state == OK {
		count, not = total-breaching, "not "
	}
	fmt.Fprintf(&b, "Threshold Crossed: %d out of the last %d datapoints [%s] %s %s%s", count, total, strings.Join(points, ", "), verb, not, comparisonWords[c.Comparison])
	if !c.Comparison.Band() {
		fmt.Fprintf(&b, " (%s)", formatValue(c.Threshold))
	}
	if fillers > 0 {
		fmt.Fprintf(&b, " with %d missing datapoints treated as %s", fillers, treat)
	}
	plural := "s"
	if m == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, " (minimum %d datapoint%s for %s -> %s transition).", m, plural, from, state)
	return b.String()
}

// formatValue prints a number as CloudWatch does: at least one decimal.
func formatValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// reasonData is CloudWatch's StateReasonData JSON.
func (c Config) reasonData(points, used []Point, now time.Time) json.RawMessage {
	const layout = "2006-01-02T15:04:05.000+0000"
	d := struct {
		Version          string    `json:"version"`
		QueryDate        string    `json:"queryDate"`
		StartDate        string    `json:"startDate,omitempty"`
		Statistic        string    `json:"statistic,omitempty"`
		Period           int64     `json:"period"`
		RecentDatapoints []float64 `json:"recentDatapoints"`
		Threshold        *float64  `json:"threshold,omitempty"`
	}{Version: "1.0", QueryDate: now.UTC().Format(layout), Statistic: c.Statistic, Period: int64(c.Period / time.Second), RecentDatapoints: []float64{}}
	if len(points) > 0 {
		d.StartDate = points[0].Time.UTC().Format(layout)
	}
	for i := len(used) - 1; i >= 0; i-- { // oldest first, as CloudWatch lists them
		d.RecentDatapoints = append(d.RecentDatapoints, used[i].Value)
	}
	if !c.Comparison.Band() {
		t := c.Threshold
		d.Threshold = &t
	}
	b, _ := json.Marshal(d)
	return b
}
