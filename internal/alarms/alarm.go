package alarms

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miradorhq/mirador/internal/alarms/composite"
	"github.com/miradorhq/mirador/internal/alarms/eval"
	"github.com/miradorhq/mirador/internal/notify"
)

// Alarm kinds.
const (
	KindMetric    = "metric"
	KindComposite = "composite"
)

// Errors callers test with errors.Is.
var (
	ErrNotFound = errors.New("alarm not found")
	ErrInvalid  = errors.New("invalid alarm")
)

// Alarm is an alarm's configuration, as the API takes it.
type Alarm struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Kind is "metric" or "composite"; it follows from Rule when empty.
	Kind string `json:"kind,omitempty"`

	// A metric alarm watches either a PromQL expression (Query) or a
	// CloudWatch-style metric (Metric), one datapoint per period.
	Query         string      `json:"query,omitempty"`
	Metric        *MetricStat `json:"metric,omitempty"`
	PeriodSeconds int         `json:"periodSeconds,omitempty"`

	ComparisonOperator               eval.Comparison  `json:"comparisonOperator,omitempty"`
	Threshold                        float64          `json:"threshold"`
	EvaluationPeriods                int              `json:"evaluationPeriods,omitempty"`
	DatapointsToAlarm                int              `json:"datapointsToAlarm,omitempty"`
	TreatMissingData                 eval.MissingData `json:"treatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile string           `json:"evaluateLowSampleCountPercentile,omitempty"`
	// AnomalyBand is required by the band comparison operators: the band
	// is the baseline's expected value ± StdDevs standard deviations.
	AnomalyBand *AnomalyBand `json:"anomalyBand,omitempty"`

	// Rule is a composite alarm's expression over other alarms' states.
	Rule string `json:"rule,omitempty"`

	// ActionsEnabled is true unless set false.
	ActionsEnabled          *bool    `json:"actionsEnabled,omitempty"`
	AlarmActions            []string `json:"alarmActions,omitempty"`
	OKActions               []string `json:"okActions,omitempty"`
	InsufficientDataActions []string `json:"insufficientDataActions,omitempty"`

	// RepeatIntervalSeconds, when positive, notifies the alarm actions
	// again while the alarm stays in ALARM that long.
	RepeatIntervalSeconds int `json:"repeatIntervalSeconds,omitempty"`
	// Flapping holds notifications of an alarm that changes state too
	// often; nil takes the default (more than 6 changes in an hour).
	Flapping *Flapping `json:"flapping,omitempty"`
	// Labels tag the alarm; mute windows select alarms by them.
	Labels map[string]string `json:"labels,omitempty"`
}

// MetricStat names a metric the CloudWatch way. The metric is the series
// named MetricName whose label "namespace" is Namespace and whose labels
// include Dimensions; each sample is one CloudWatch datapoint value. See
// Expr for the PromQL each statistic becomes.
type MetricStat struct {
	Namespace  string            `json:"namespace,omitempty"`
	MetricName string            `json:"metricName"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Statistic is SampleCount, Average, Sum, Minimum, Maximum or a
	// percentile pNN(.NN).
	Statistic string `json:"statistic"`
}

// AnomalyBand configures ANOMALY_DETECTION_BAND(m, StdDevs).
type AnomalyBand struct {
	StdDevs float64 `json:"stdDevs"`
	// Min and Max clamp the band (e.g. 0 for counts, 0–100 for percents);
	// ignored unless Min < Max.
	Min float64 `json:"min,omitempty"`
	Max float64 `json:"max,omitempty"`
}

// Flapping is the flapping detector's setting: an alarm is flapping while
// it changed state more than MaxTransitions times in the last
// WindowSeconds. MaxTransitions 0 turns detection off.
type Flapping struct {
	MaxTransitions int `json:"maxTransitions"`
	WindowSeconds  int `json:"windowSeconds"`
}

// DefaultFlapping applies to alarms that do not set Flapping.
var DefaultFlapping = Flapping{MaxTransitions: 6, WindowSeconds: 3600}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	percentile = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?)$`)
)

// Limits of an alarm's configuration.
const (
	MaxNameChars        = 255
	MaxDescriptionChars = 1024
	MaxActions          = 5
	MaxLabels           = 50
)

// Period returns the alarm's period.
func (a *Alarm) Period() time.Duration { return time.Duration(a.PeriodSeconds) * time.Second }

// Interval is how often the alarm is evaluated: every 10 s for periods
// under a minute, every minute otherwise (CloudWatch's schedule).
func (a *Alarm) Interval() time.Duration {
	if a.PeriodSeconds < 60 {
		return 10 * time.Second
	}
	return time.Minute
}

// EvalConfig is what package eval needs of a metric alarm.
func (a *Alarm) EvalConfig() eval.Config {
	stat := "Value"
	if a.Metric != nil {
		stat = a.Metric.Statistic
	}
	return eval.Config{
		Comparison: a.ComparisonOperator, Threshold: a.Threshold,
		EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm,
		TreatMissingData: a.TreatMissingData, Period: a.Period(), Statistic: stat,
	}
}

// actionsEnabled reports ActionsEnabled with its default.
func (a *Alarm) actionsEnabled() bool { return a.ActionsEnabled == nil || *a.ActionsEnabled }

func (a *Alarm) flapping() Flapping {
	if a.Flapping == nil {
		return DefaultFlapping
	}
	return *a.Flapping
}

// actions returns the action topics of a state.
func (a *Alarm) actions(state eval.State) []string {
	switch state {
	case eval.Alarm:
		return a.AlarmActions
	case eval.OK:
		return a.OKActions
	}
	return a.InsufficientDataActions
}

// Normalize fills defaults and checks the configuration, naming the field
// that is wrong. checkExpr parses PromQL.
func (a *Alarm) Normalize(checkExpr func(string) error) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case a.Name == "" || utf8.RuneCountInString(a.Name) > MaxNameChars:
		return bad("name: 1 to %d characters", MaxNameChars)
	case strings.ContainsFunc(a.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("name %q: no control characters", a.Name)
	case utf8.RuneCountInString(a.Description) > MaxDescriptionChars:
		return bad("description: at most %d characters", MaxDescriptionChars)
	case len(a.Labels) > MaxLabels:
		return bad("labels: at most %d", MaxLabels)
	case a.RepeatIntervalSeconds < 0:
		return bad("repeatIntervalSeconds %d: must not be negative", a.RepeatIntervalSeconds)
	}
	if f := a.Flapping; f != nil && (f.MaxTransitions < 0 || (f.MaxTransitions > 0 && f.WindowSeconds <= 0)) {
		return bad("flapping: maxTransitions must be 0 (off) or positive, with a positive windowSeconds")
	}
	for name, list := range map[string][]string{"alarmActions": a.AlarmActions, "okActions": a.OKActions, "insufficientDataActions": a.InsufficientDataActions} {
		if len(list) > MaxActions {
			return bad("%s: at most %d topics", name, MaxActions)
		}
		for i, ref := range list {
			topic, err := notify.ParseTopic(ref)
			if err != nil {
				return bad("%s[%d]: %v", name, i, errors.Unwrap(err))
			}
			list[i] = topic
		}
	}
	if a.Kind == "" {
		a.Kind = KindMetric
		if a.Rule != "" {
			a.Kind = KindComposite
		}
	}
	switch a.Kind {
	case KindComposite:
		return a.normalizeComposite(bad)
	case KindMetric:
		return a.normalizeMetric(bad, checkExpr)
	}
	return bad("kind %q: want metric or composite", a.Kind)
}

func (a *Alarm) normalizeComposite(bad func(string, ...any) error) error {
	if a.Query != "" || a.Metric != nil || a.AnomalyBand != nil {
		return bad("a composite alarm has a rule, not query, metric or anomalyBand")
	}
	r, err := composite.Parse(a.Rule)
	if err != nil {
		return bad("rule: %v", err)
	}
	for _, c := range r.Children() {
		if c == a.Name {
			return bad("rule: the alarm refers to itself")
		}
	}
	return nil
}

func (a *Alarm) normalizeMetric(bad func(string, ...any) error, checkExpr func(string) error) error {
	if a.Rule != "" {
		return bad("rule: only composite alarms have one")
	}
	switch {
	case (a.Query == "") == (a.Metric == nil):
		return bad("set exactly one of query (PromQL) and metric")
	case a.PeriodSeconds != 10 && a.PeriodSeconds != 20 && a.PeriodSeconds != 30 && (a.PeriodSeconds < 60 || a.PeriodSeconds%60 != 0):
		return bad("periodSeconds %d: must be 10, 20, 30 or a multiple of 60", a.PeriodSeconds)
	}
	if a.DatapointsToAlarm == 0 {
		a.DatapointsToAlarm = a.EvaluationPeriods
	}
	if a.TreatMissingData == "" {
		a.TreatMissingData = eval.Missing
	}
	if m := a.Metric; m != nil {
		if !metricName.MatchString(m.MetricName) {
			return bad("metric.metricName %q: a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", m.MetricName)
		}
		for k := range m.Dimensions {
			if !labelName.MatchString(k) || k == "namespace" || strings.HasPrefix(k, "__") {
				return bad("metric.dimensions: %q is not a usable label name", k)
			}
		}
		if _, _, err := statistic(m.Statistic); err != nil {
			return bad("metric.statistic: %v", err)
		}
	}
	switch a.EvaluateLowSampleCountPercentile {
	case "", "evaluate":
	case "ignore":
		if a.Metric == nil || !percentile.MatchString(a.Metric.Statistic) {
			return bad("evaluateLowSampleCountPercentile: only for percentile statistics (metric.statistic pNN)")
		}
	default:
		return bad("evaluateLowSampleCountPercentile %q: want evaluate or ignore", a.EvaluateLowSampleCountPercentile)
	}
	if err := a.EvalConfig().Validate(); err != nil {
		return bad("%v", err)
	}
	if a.ComparisonOperator.Band() != (a.AnomalyBand != nil) {
		return bad("anomalyBand is required by, and only allowed with, the band comparison operators (LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold)")
	}
	if b := a.AnomalyBand; b != nil && (b.StdDevs <= 0 || math.IsNaN(b.StdDevs) || b.StdDevs > 100) {
		return bad("anomalyBand.stdDevs %v: must be above 0 and at most 100", b.StdDevs)
	}
	if checkExpr != nil {
		if err := checkExpr(a.Expr()); err != nil {
			return bad("query: %v", err)
		}
	}
	return nil
}

// statistic parses a statistic: an aggregation or a percentile (0..1).
func statistic(s string) (agg string, p float64, err error) {
	switch s {
	case "SampleCount", "Average", "Sum", "Minimum", "Maximum":
		return s, 0, nil
	}
	if m := percentile.FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		if v > 0 && v < 100 {
			return "percentile", v / 100, nil
		}
	}
	return "", 0, fmt.Errorf("%q: want SampleCount, Average, Sum, Minimum, Maximum or a percentile such as p99 or p99.9", s)
}

// Expr is the PromQL the alarm evaluates at the end of each period. For a
// CloudWatch-style metric, over the series S of the metric and its
// dimensions and a range of one period P:
//
//	Sum          sum(sum_over_time(S[P]))
//	Average      sum(sum_over_time(S[P])) / sum(count_over_time(S[P]))
//	Minimum      min(min_over_time(S[P]))
//	Maximum      max(max_over_time(S[P]))
//	SampleCount  sum(count_over_time(S[P]))
//	pNN          max(quantile_over_time(0.NN, S[P]))
func (a *Alarm) Expr() string {
	if a.Metric == nil {
		return a.Query
	}
	sel, p := a.Metric.selector(), fmt.Sprintf("[%ds]", a.PeriodSeconds)
	agg, q, _ := statistic(a.Metric.Statistic)
	switch agg {
	case "Sum":
		return "sum(sum_over_time(" + sel + p + "))"
	case "Average":
		return "sum(sum_over_time(" + sel + p + ")) / sum(count_over_time(" + sel + p + "))"
	case "Minimum":
		return "min(min_over_time(" + sel + p + "))"
	case "Maximum":
		return "max(max_over_time(" + sel + p + "))"
	case "SampleCount":
		return "sum(count_over_time(" + sel + p + "))"
	}
	return "max(quantile_over_time(" + strconv.FormatFloat(q, 'g', -1, 64) + ", " + sel + p + "))"
}

// sampleCountExpr counts the samples behind each datapoint, for
// EvaluateLowSampleCountPercentile.
func (a *Alarm) sampleCountExpr() string {
	return fmt.Sprintf("sum(count_over_time(%s[%ds]))", a.Metric.selector(), a.PeriodSeconds)
}

func (m *MetricStat) selector() string {
	parts := []string{"__name__=" + strconv.Quote(m.MetricName)}
	if m.Namespace != "" {
		parts = append(parts, "namespace="+strconv.Quote(m.Namespace))
	}
	keys := make([]string, 0, len(m.Dimensions))
	for k := range m.Dimensions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(m.Dimensions[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
