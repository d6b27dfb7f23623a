package metricfilter

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

// ErrInvalid marks a filter the caller must fix; ErrNotFound an unknown one.
var (
	ErrInvalid  = errors.New("invalid metric filter")
	ErrNotFound = errors.New("metric filter not found")
)

// Limits, as CloudWatch's.
const (
	MaxFiltersPerGroup = 100
	MaxDimensions      = 3
	MaxNameChars       = 512
)

// Filter is one metric filter of a log group.
type Filter struct {
	Name            string           `json:"filterName"`
	LogGroup        string           `json:"logGroupName"`
	Pattern         string           `json:"filterPattern"`
	Transformations []Transformation `json:"metricTransformations"`
}

// Transformation says what metric a matching record feeds.
type Transformation struct {
	MetricName      string `json:"metricName"`
	MetricNamespace string `json:"metricNamespace"`
	// MetricValue is a number ("1", "2.5") or a field the pattern
	// extracts: "$.latency" for JSON patterns, "$bytes" for
	// space-delimited ones.
	MetricValue string `json:"metricValue"`
	// DefaultValue, when set, is added for every record of the group
	// that does not match, so quiet minutes report it instead of nothing.
	DefaultValue *float64          `json:"defaultValue,omitempty"`
	Dimensions   map[string]string `json:"dimensions,omitempty"`
	Unit         string            `json:"unit,omitempty"`
}

var (
	filterName = regexp.MustCompile(`^[^:*]{1,512}$`)
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	fieldRef   = regexp.MustCompile(`^\$(\.[A-Za-z0-9_\-.\[\]]+|[A-Za-z0-9_]+)$`)
)

// compiled is a filter ready to run.
type compiled struct {
	Filter
	pattern *filterpattern.Pattern
	value   float64 // when MetricValue is a literal
	literal bool
}

// compile validates f, naming the field that is wrong.
func compile(f Filter) (*compiled, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if !filterName.MatchString(f.Name) {
		return nil, bad("filterName %q: 1 to 512 characters, no ':' or '*'", f.Name)
	}
	p, err := filterpattern.Parse(f.Pattern)
	if err != nil {
		return nil, bad("filterPattern: %v", err)
	}
	if len(f.Transformations) != 1 {
		return nil, bad("metricTransformations: exactly one is required, got %d", len(f.Transformations))
	}
	t := f.Transformations[0]
	c := &compiled{Filter: f, pattern: p}
	switch {
	case !metricName.MatchString(t.MetricName):
		return nil, bad("metricTransformations[0].metricName %q: a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", t.MetricName)
	case t.MetricNamespace == "" || len(t.MetricNamespace) > 255:
		return nil, bad("metricTransformations[0].metricNamespace: 1 to 255 characters")
	case len(t.Dimensions) > MaxDimensions:
		return nil, bad("metricTransformations[0].dimensions: at most %d", MaxDimensions)
	case len(t.Dimensions) > 0 && t.DefaultValue != nil:
		return nil, bad("metricTransformations[0]: defaultValue cannot be combined with dimensions (as in CloudWatch)")
	}
	if v, err := strconv.ParseFloat(t.MetricValue, 64); err == nil {
		c.value, c.literal = v, true
	} else if err := checkRef(t.MetricValue, p); err != nil {
		return nil, bad("metricTransformations[0].metricValue: %v", err)
	}
	for k, ref := range t.Dimensions {
		if !labelName.MatchString(k) || k == "namespace" || k == "log_group" || k == "metric_filter" || strings.HasPrefix(k, "__") {
			return nil, bad("metricTransformations[0].dimensions: %q is not a usable dimension name", k)
		}
		if err := checkRef(ref, p); err != nil {
			return nil, bad("metricTransformations[0].dimensions.%s: %v", k, err)
		}
	}
	return c, nil
}

// checkRef checks a "$.path" or "$field" reference against the pattern
// that must extract it.
func checkRef(ref string, p *filterpattern.Pattern) error {
	switch {
	case !fieldRef.MatchString(ref):
		return fmt.Errorf("%q: want a number, $.path (JSON patterns) or $field (space-delimited patterns)", ref)
	case strings.HasPrefix(ref, "$.") && !p.IsJSON():
		return fmt.Errorf("%q refers to a JSON field, but the filter pattern is not a JSON pattern ({ $.x = … })", ref)
	case !strings.HasPrefix(ref, "$.") && !strings.HasPrefix(strings.TrimSpace(p.String()), "["):
		return fmt.Errorf("%q refers to a field of a space-delimited pattern ([a, b, …]), which the filter pattern is not", ref)
	}
	return nil
}
