package metricfilter

import (
	"errors"
	"strings"
	"testing"
)

func TestTestReportsMatchesAndExtractedValues(t *testing.T) {
	ms, err := Test(`[ip, user, ts, request, status=4*, bytes]`, nil, []string{
		`10.0.0.1 - [x] "GET /" 200 512`, `10.0.0.2 - [x] "GET /a" 404 10`,
	})
	if err != nil || len(ms) != 1 || ms[0].EventNumber != 2 || ms[0].ExtractedValues["$status"] != "404" || ms[0].ExtractedValues["$bytes"] != "10" || ms[0].MetricValue != nil {
		t.Errorf("%v %+v", err, ms)
	}

	// With a transformation: what each match adds, and the JSON fields it reads.
	ms, err = Test(`{ $.status = 200 }`, &Transformation{MetricName: "latency", MetricNamespace: "Shop", MetricValue: "$.latency", Dimensions: map[string]string{"route": "$.route"}},
		[]string{`{"status":200,"latency":12.5,"route":"/cart"}`, `{"status":500,"latency":1}`, `{"status":200,"latency":"slow"}`})
	if err != nil || len(ms) != 2 {
		t.Fatalf("%v %+v", err, ms)
	}
	if m := ms[0]; m.EventNumber != 1 || m.MetricValue == nil || *m.MetricValue != 12.5 || m.Dimensions["route"] != "/cart" || m.ExtractedValues["$.latency"] != "12.5" || m.ExtractedValues["$.route"] != "/cart" {
		t.Errorf("first match %+v", m)
	}
	if m := ms[1]; m.EventNumber != 3 || m.MetricValue != nil || m.ExtractedValues["$.latency"] != "slow" {
		t.Errorf("a match whose value is not a number adds nothing: %+v", m)
	}
}

func TestTestRefusesWhatTestMetricFilterRefuses(t *testing.T) {
	for _, c := range []struct {
		name     string
		pattern  string
		t        *Transformation
		messages []string
		want     string
	}{
		{"no messages", "ERROR", nil, nil, "logEventMessages: 1 to 50 messages, got 0"},
		{"51 messages", "ERROR", nil, make([]string, 51), "got 51"},
		{"bad pattern", `{ $.a = `, nil, []string{"x"}, "filterPattern: "},
		{"bad transformation", `ERROR`, &Transformation{MetricName: "m", MetricNamespace: "N", MetricValue: "$.x"}, []string{"x"}, "metricTransformations[0].metricValue"},
	} {
		_, err := Test(c.pattern, c.t, c.messages)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an ErrInvalid about %q", c.name, err, c.want)
		}
	}
}
