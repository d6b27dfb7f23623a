package metricfilter

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

// Errors of metric filters; callers test them with errors.Is.
var (
	// ErrInvalid marks a filter (or a test request) the caller must fix;
	// the message names the field.
	ErrInvalid = errors.New("invalid metric filter")
	// ErrNotFound marks an unknown filter.
	ErrNotFound = errors.New("metric filter not found")
	// ErrLimit marks a log group that already has MaxFiltersPerGroup
	// filters.
	ErrLimit = errors.New("too many metric filters")
)

// Limits, as CloudWatch's.
const (
	MaxFiltersPerGroup  = 100
	MaxDimensions       = 3
	MaxFilterNameLength = 512
	MaxNameLength       = 255 // metric name, namespace, dimension name
	MaxPatternLength    = 1024
	MaxValueLength      = 100 // metricValue
)

// Units are the values CloudWatch accepts for a metric transformation's
// unit. Mirador stores the unit and shows it; it does not scale values.
var Units = []string{
	"Seconds", "Microseconds", "Milliseconds",
	"Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
	"Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// Filter is one metric filter of a log group, in CloudWatch's JSON shape.
type Filter struct {
	Name            string           `json:"filterName"`
	LogGroup        string           `json:"logGroupName"`
	Pattern         string           `json:"filterPattern"`
	Transformations []Transformation `json:"metricTransformations"`
	// CreationTime is when the filter was first put, in Unix
	// milliseconds. The Store sets it; Put ignores it.
	CreationTime int64 `json:"creationTime,omitempty"`
}

// Transformation says which metric the records a filter matches feed.
type Transformation struct {
	// MetricName is CloudWatch's name (any characters but : * $); the
	// series' __name__ is its Prometheus form (SeriesName).
	MetricName      string `json:"metricName"`
	MetricNamespace string `json:"metricNamespace"`
	// MetricValue is a number ("1", "2.5") or a field the pattern
	// extracts: "$.latency" for JSON patterns, "$bytes" for
	// space-delimited ones.
	MetricValue string `json:"metricValue"`
	// DefaultValue, when set, is added for every record of the group
	// that does not match, so minutes with records but no match report it
	// instead of nothing.
	DefaultValue *float64 `json:"defaultValue,omitempty"`
	// Dimensions maps a dimension name to the field ("$.path" or
	// "$name") whose value it takes; each becomes a label.
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Unit       string            `json:"unit,omitempty"`
}

// Validate checks f against CloudWatch's rules. The error wraps
// ErrInvalid and names the field, the bad value and what would do.
func (f Filter) Validate() error {
	_, err := compile(f)
	return err
}

// compiled is a validated filter, ready to run on records. It is
// immutable.
type compiled struct {
	Filter
	pattern    *filterpattern.Pattern
	metricName string // Prometheus form
	literal    bool   // MetricValue is a number: value
	value      float64
	dims       []dimension // by label
	// id names the series family: labels a record cannot change (metric,
	// namespace, group, filter, dimension labels).
	id string
}

type dimension struct{ label, ref string }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// compile validates f and prepares it to run.
func compile(f Filter) (*compiled, error) {
	switch {
	case f.Name == "" || len(f.Name) > MaxFilterNameLength || strings.ContainsAny(f.Name, ":*"):
		return nil, invalid("filterName %q: 1 to %d characters, none of them ':' or '*'", truncate(f.Name), MaxFilterNameLength)
	case len(f.Pattern) > MaxPatternLength:
		return nil, invalid("filterPattern: %d characters, at most %d", len(f.Pattern), MaxPatternLength)
	}
	if err := logs.ValidateGroupName(f.LogGroup); err != nil {
		return nil, invalid("logGroupName: %v", err)
	}
	p, err := filterpattern.Parse(f.Pattern)
	if err != nil {
		return nil, invalid("filterPattern: %v", err)
	}
	if len(f.Transformations) != 1 {
		return nil, invalid("metricTransformations: exactly one transformation is required, got %d", len(f.Transformations))
	}
	t := f.Transformations[0]
	const at = "metricTransformations[0]"
	if err := checkName(t.MetricName); err != nil {
		return nil, invalid("%s.metricName: %v", at, err)
	}
	if err := checkName(t.MetricNamespace); err != nil {
		return nil, invalid("%s.metricNamespace: %v", at, err)
	}
	if t.Unit != "" && !slices.Contains(Units, t.Unit) {
		return nil, invalid("%s.unit %q: use one of %s", at, truncate(t.Unit), strings.Join(Units, ", "))
	}
	if d := t.DefaultValue; d != nil && (math.IsNaN(*d) || math.IsInf(*d, 0)) {
		return nil, invalid("%s.defaultValue: must be a finite number", at)
	}
	c := &compiled{Filter: f, pattern: p, metricName: SeriesName(t.MetricName)}
	switch v, err := strconv.ParseFloat(t.MetricValue, 64); {
	case len(t.MetricValue) > MaxValueLength:
		return nil, invalid("%s.metricValue: %d characters, at most %d", at, len(t.MetricValue), MaxValueLength)
	case err == nil && !math.IsNaN(v) && !math.IsInf(v, 0):
		c.value, c.literal = v, true
	case strings.HasPrefix(t.MetricValue, "$"):
		if err := checkRef(t.MetricValue, p); err != nil {
			return nil, invalid("%s.metricValue: %v", at, err)
		}
	default:
		return nil, invalid("%s.metricValue %q: want a finite number (\"1\"), $.path (JSON patterns) or $name (space-delimited patterns)", at, truncate(t.MetricValue))
	}
	switch {
	case len(t.Dimensions) > MaxDimensions:
		return nil, invalid("%s.dimensions: %d dimensions, at most %d", at, len(t.Dimensions), MaxDimensions)
	case len(t.Dimensions) > 0 && t.DefaultValue != nil:
		return nil, invalid("%s: defaultValue cannot be combined with dimensions (CloudWatch refuses it too); drop one of them", at)
	}
	taken := map[string]string{}
	for name, ref := range t.Dimensions {
		label := SeriesName(name)
		switch {
		case name == "" || len(name) > MaxNameLength || strings.TrimSpace(name) == "":
			return nil, invalid("%s.dimensions: a dimension name has 1 to %d characters, not all spaces", at, MaxNameLength)
		case name[0] == ':':
			return nil, invalid("%s.dimensions.%s: a dimension name cannot start with ':'", at, truncate(name))
		case strings.HasPrefix(label, "__") || slices.Contains(reservedLabels, label):
			return nil, invalid("%s.dimensions.%s: label %q is Mirador's own (%s and names starting __ are reserved); rename the dimension", at, truncate(name), label, strings.Join(reservedLabels, ", "))
		case taken[label] != "":
			return nil, invalid("%s.dimensions: %q and %q both become label %q; rename one", at, truncate(taken[label]), truncate(name), label)
		}
		for i := 0; i < len(name); i++ {
			if name[i] >= 0x80 {
				return nil, invalid("%s.dimensions: %q: a dimension name has ASCII characters only", at, truncate(name))
			}
		}
		taken[label] = name
		if err := checkRef(ref, p); err != nil {
			return nil, invalid("%s.dimensions.%s: %v", at, truncate(name), err)
		}
		c.dims = append(c.dims, dimension{label: label, ref: ref})
	}
	slices.SortFunc(c.dims, func(a, b dimension) int { return strings.Compare(a.label, b.label) })
	id := []string{c.metricName, t.MetricNamespace, f.LogGroup, f.Name}
	for _, d := range c.dims {
		id = append(id, d.label)
	}
	c.id = strings.Join(id, "\x00")
	return c, nil
}

// valueOf is what a match adds: the literal value, or the extracted field
// when it is a finite number.
func (c *compiled) valueOf(x filterpattern.Extracted) (float64, bool) {
	if c.literal {
		return c.value, true
	}
	v, found := x.Get(c.Transformations[0].MetricValue)
	if !found {
		return 0, false
	}
	n, err := strconv.ParseFloat(v.String(), 64)
	return n, err == nil && !math.IsNaN(n) && !math.IsInf(n, 0)
}

// dimsOf extracts the dimension values of a match; bit i of has says
// whether dims[i] was found. An empty value counts as missing, as an empty
// label is no label.
func (c *compiled) dimsOf(x filterpattern.Extracted) (dims [MaxDimensions]string, has uint8) {
	for i, d := range c.dims {
		if v, ok := x.Get(d.ref); ok {
			if s := v.String(); s != "" {
				dims[i], has = s, has|1<<i
			}
		}
	}
	return dims, has
}

// checkName checks a CloudWatch metric name or namespace.
func checkName(s string) error {
	switch {
	case s == "" || len(s) > MaxNameLength:
		return fmt.Errorf("%q: 1 to %d characters", truncate(s), MaxNameLength)
	case strings.ContainsAny(s, ":*$"):
		return fmt.Errorf("%q: none of ':', '*' or '$' (CloudWatch's rule)", truncate(s))
	}
	return nil
}

// checkRef checks a "$.path" or "$name" reference against the pattern
// that must extract it.
func checkRef(ref string, p *filterpattern.Pattern) error {
	if path, ok := strings.CutPrefix(ref, "$."); ok {
		if path == "" || strings.ContainsAny(path, " \t\"'") {
			return fmt.Errorf("%q is not a JSON path such as $.latency or $.request.bytes", truncate(ref))
		}
		if !p.IsJSON() {
			return fmt.Errorf("%q refers to a JSON field, but the filter pattern is not a JSON pattern ({ $.x = … }); use { $.x = * } to require it", truncate(ref))
		}
		return nil
	}
	name := strings.TrimPrefix(ref, "$")
	switch {
	case name == ref || name == "":
		return fmt.Errorf("%q: want $.path (JSON patterns) or $name (space-delimited patterns)", truncate(ref))
	case !p.IsDelimited():
		return fmt.Errorf("%q refers to a field of a space-delimited pattern ([a, b, …]), which the filter pattern is not", truncate(ref))
	case !slices.Contains(p.FieldNames(), name):
		return fmt.Errorf("%q: the pattern has no field %s (it has %s)", truncate(ref), name, strings.Join(p.FieldNames(), ", "))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
