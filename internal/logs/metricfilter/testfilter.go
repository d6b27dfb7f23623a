package metricfilter

import (
	"fmt"

	"github.com/miradorhq/mirador/internal/query/filterpattern"
)

// Match is one message a tested pattern matched, as CloudWatch's
// TestMetricFilter reports it.
type Match struct {
	EventNumber     int               `json:"eventNumber"`
	EventMessage    string            `json:"eventMessage"`
	ExtractedValues map[string]string `json:"extractedValues"`
}

// TestPattern matches a pattern against sample messages (1 to 50).
func TestPattern(pattern string, messages []string) ([]Match, error) {
	if len(messages) == 0 || len(messages) > 50 {
		return nil, fmt.Errorf("%w: logEventMessages: 1 to 50 messages, got %d", ErrInvalid, len(messages))
	}
	p, err := filterpattern.Parse(pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: filterPattern: %v", ErrInvalid, err)
	}
	out := []Match{}
	for i, m := range messages {
		if ok, x := p.MatchExtract(filterpattern.Event{Message: m}); ok {
			out = append(out, Match{EventNumber: i + 1, EventMessage: m, ExtractedValues: x.Fields()})
		}
	}
	return out, nil
}
