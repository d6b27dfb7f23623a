package metricfilter

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidationNamesTheField(t *testing.T) {
	tr := func(mod func(*Transformation)) []Transformation {
		t := Transformation{MetricName: "m", MetricNamespace: "N", MetricValue: "1"}
		mod(&t)
		return []Transformation{t}
	}
	same := func(*Transformation) {}
	for _, c := range []struct {
		name string
		f    Filter
		want string
	}{
		{"bad pattern", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = `, Transformations: tr(same)}, "filterPattern: "},
		{"long pattern", Filter{Name: "x", LogGroup: "g", Pattern: strings.Repeat("a", 1025), Transformations: tr(same)}, "filterPattern: 1025 characters"},
		{"no transformation", Filter{Name: "x", LogGroup: "g", Pattern: "ERROR"}, "exactly one transformation is required, got 0"},
		{"two transformations", Filter{Name: "x", LogGroup: "g", Pattern: "ERROR", Transformations: append(tr(same), tr(same)...)}, "got 2"},
		{"filter name", Filter{Name: "a:b", LogGroup: "g", Transformations: tr(same)}, "filterName"},
		{"empty filter name", Filter{LogGroup: "g", Transformations: tr(same)}, "filterName"},
		{"log group", Filter{Name: "x", LogGroup: "a b", Transformations: tr(same)}, "logGroupName"},
		{"metric name charset", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.MetricName = "a:b" })}, "metricName"},
		{"empty metric name", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.MetricName = "" })}, "metricName"},
		{"long metric name", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.MetricName = strings.Repeat("m", 256) })}, "metricName"},
		{"namespace charset", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.MetricNamespace = "a$b" })}, "metricNamespace"},
		{"empty namespace", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.MetricNamespace = "" })}, "metricNamespace"},
		{"value word", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.MetricValue = "lots" })}, "metricValue \"lots\""},
		{"value NaN", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.MetricValue = "NaN" })}, "metricValue"},
		{"JSON ref, text pattern", Filter{Name: "x", LogGroup: "g", Pattern: "ERROR", Transformations: tr(func(t *Transformation) { t.MetricValue = "$.latency" })}, "not a JSON pattern"},
		{"field ref, JSON pattern", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: tr(func(t *Transformation) { t.MetricValue = "$bytes" })}, "space-delimited"},
		{"unknown field", Filter{Name: "x", LogGroup: "g", Pattern: `[ip, bytes]`, Transformations: tr(func(t *Transformation) { t.MetricValue = "$size" })}, "no field size (it has ip, bytes)"},
		{"default NaN", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.DefaultValue = ptr(math.NaN()) })}, "defaultValue"},
		{"four dimensions", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: tr(func(t *Transformation) {
			t.Dimensions = map[string]string{"a": "$.a", "b": "$.b", "c": "$.c", "d": "$.d"}
		})}, "4 dimensions, at most 3"},
		{"dimensions and default", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: tr(func(t *Transformation) {
			t.DefaultValue, t.Dimensions = ptr(0.0), map[string]string{"a": "$.a"}
		})}, "defaultValue cannot be combined with dimensions"},
		{"reserved dimension", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: tr(func(t *Transformation) { t.Dimensions = map[string]string{"log-group": "$.a"} })}, `label "log_group" is Mirador's own`},
		{"dimensions colliding", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: tr(func(t *Transformation) {
			t.Dimensions = map[string]string{"a-b": "$.a", "a_b": "$.b"}
		})}, `both become label "a_b"`},
		{"dimension not a reference", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: tr(func(t *Transformation) { t.Dimensions = map[string]string{"a": "route"} })}, "dimensions.a"},
		{"dimension name colon", Filter{Name: "x", LogGroup: "g", Pattern: `{ $.a = 1 }`, Transformations: tr(func(t *Transformation) { t.Dimensions = map[string]string{":a": "$.a"} })}, "cannot start with ':'"},
		{"unit", Filter{Name: "x", LogGroup: "g", Transformations: tr(func(t *Transformation) { t.Unit = "Parsecs" })}, "unit \"Parsecs\": use one of Seconds"},
	} {
		err := c.f.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an ErrInvalid about %q", c.name, err, c.want)
		}
	}
}

func TestCloudWatchNamesAreAcceptedAndMadePrometheusNames(t *testing.T) {
	f := filter("5xx responses", "api/prod", `{ $.status >= 500 }`, Transformation{
		MetricName: "5xx Errors", MetricNamespace: "My App/Prod", MetricValue: "1", Unit: "Count",
		Dimensions: map[string]string{"Status Code": "$.status", "route": "$.http.route"},
	})
	c, err := compile(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.metricName != "_5xx_Errors" || c.dims[0].label != "Status_Code" || c.dims[1].label != "route" {
		t.Errorf("metric %q, dimensions %+v", c.metricName, c.dims)
	}
	if got, want := f.Selector(), `{__name__="_5xx_Errors", namespace="My App/Prod", log_group="api/prod", metric_filter="5xx responses"}`; got != want {
		t.Errorf("selector %s, want %s", got, want)
	}
	for in, want := range map[string]string{"errors": "errors", "api.latency": "api_latency", "9lives": "_9lives", "é": "_", "a b-c": "a_b_c"} {
		if got := SeriesName(in); got != want {
			t.Errorf("SeriesName(%q) = %q, want %q", in, got, want)
		}
	}
}
