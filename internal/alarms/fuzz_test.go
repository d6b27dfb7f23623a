package alarms

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/miradorhq/mirador/internal/metrics"
)

// FuzzNormalize feeds alarm definitions as the API decodes them: anything
// either validates — and then yields PromQL that parses — or is refused
// with ErrInvalid, never a panic.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","query":"up","periodSeconds":60,"evaluationPeriods":3,"datapointsToAlarm":2,"comparisonOperator":"GreaterThanThreshold","threshold":1}`,
		`{"name":"b","metric":{"namespace":"N","metricName":"m","dimensions":{"host":"a\"b"},"statistic":"p99.9"},"periodSeconds":300,"evaluationPeriods":1,"comparisonOperator":"LessThanThreshold","evaluateLowSampleCountPercentile":"ignore"}`,
		`{"name":"c","rule":"ALARM(a) AND NOT (OK(\"b c\") OR TRUE)","alarmActions":["arn:aws:sns:us-east-1:1:ops"]}`,
		`{"name":"d","query":"rps","periodSeconds":10,"evaluationPeriods":1,"comparisonOperator":"LessThanLowerOrGreaterThanUpperThreshold","anomalyBand":{"stdDevs":2}}`,
	} {
		f.Add([]byte(s))
	}
	check := metrics.ParseExpr
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Alarm
		if json.Unmarshal(data, &a) != nil {
			return
		}
		err := a.Normalize(check)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if a.Kind == KindMetric {
			if err := check(a.Expr()); err != nil {
				t.Fatalf("valid alarm %+v yields PromQL %q that does not parse: %v", a, a.Expr(), err)
			}
			_ = a.EvalConfig()
		}
	})
}
