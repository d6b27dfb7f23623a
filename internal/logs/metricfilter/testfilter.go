package metricfilter

import (
	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

// MaxTestMessages is how many messages Test takes, as TestMetricFilter.
const MaxTestMessages = 50

// Match is a message a tested pattern matched, as CloudWatch's
// TestMetricFilter reports it, plus, when a transformation was given, what
// the message would add.
type Match struct {
	EventNumber  int    `json:"eventNumber"` // 1-based
	EventMessage string `json:"eventMessage"`
	// ExtractedValues: the fields of a space-delimited pattern ("$name"),
	// and the fields the transformation refers to ("$.path", "$name").
	ExtractedValues map[string]string `json:"extractedValues"`
	// MetricValue is what the message adds to the metric; absent without
	// a transformation, or when its field is missing or not a number
	// (the message then adds nothing).
	MetricValue *float64 `json:"metricValue,omitempty"`
	// Dimensions are the labels the dimensions take from the message.
	Dimensions map[string]string `json:"dimensions,omitempty"`
}

// Test matches a filter pattern against sample messages (1 to
// MaxTestMessages), as CloudWatch's TestMetricFilter does. t, if not nil,
// is validated with the pattern and applied to each match.
func Test(pattern string, t *Transformation, messages []string) ([]Match, error) {
	if len(messages) == 0 || len(messages) > MaxTestMessages {
		return nil, invalid("logEventMessages: 1 to %d messages, got %d", MaxTestMessages, len(messages))
	}
	var c *compiled
	if t != nil {
		var err error
		if c, err = compile(Filter{Name: "test", LogGroup: "test", Pattern: pattern, Transformations: []Transformation{*t}}); err != nil {
			return nil, err
		}
	} else {
		if len(pattern) > MaxPatternLength {
			return nil, invalid("filterPattern: %d characters, at most %d", len(pattern), MaxPatternLength)
		}
		p, err := filterpattern.Parse(pattern)
		if err != nil {
			return nil, invalid("filterPattern: %v", err)
		}
		c = &compiled{pattern: p}
	}
	out := []Match{}
	for i, msg := range messages {
		ok, x := c.pattern.MatchExtract(filterpattern.Event{Message: msg})
		if !ok {
			continue
		}
		m := Match{EventNumber: i + 1, EventMessage: msg, ExtractedValues: x.Fields()}
		if t != nil {
			if v, ok := c.valueOf(x); ok {
				m.MetricValue = &v
			}
			var refs []string
			if !c.literal {
				refs = append(refs, t.MetricValue)
			}
			dims, has := c.dimsOf(x)
			for i, d := range c.dims {
				refs = append(refs, d.ref)
				if has&(1<<i) != 0 {
					if m.Dimensions == nil {
						m.Dimensions = map[string]string{}
					}
					m.Dimensions[d.label] = dims[i]
				}
			}
			for _, ref := range refs {
				if v, found := x.Get(ref); found {
					m.ExtractedValues[ref] = v.String()
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}
