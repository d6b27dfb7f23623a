package metricfilter

import (
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Labels every series of a filter has besides __name__ and its
// dimensions; no dimension may take them.
const (
	LabelNamespace = "namespace"
	LabelLogGroup  = "log_group"
	LabelFilter    = "metric_filter"
)

var reservedLabels = []string{LabelNamespace, LabelLogGroup, LabelFilter}

// SeriesName is the Prometheus name a CloudWatch metric or dimension name
// becomes: each character outside [a-zA-Z0-9_] turns into '_', and a
// leading digit gets a '_' in front ("4xx-errors" → "_4xx_errors").
func SeriesName(s string) string {
	ok := s != "" && !(s[0] >= '0' && s[0] <= '9')
	for i := 0; ok && i < len(s); i++ {
		ok = isNameByte(s[i])
	}
	if ok {
		return s
	}
	var b strings.Builder
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		b.WriteByte('_')
	}
	for _, r := range s {
		if r < 0x80 && isNameByte(byte(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// Selector is the PromQL selector of the filter's series, for a query or
// an alarm: {__name__="…", namespace="…", log_group="…", metric_filter="…"}.
// Each dimension adds a label to the series it selects.
func (f Filter) Selector() string {
	if len(f.Transformations) == 0 {
		return ""
	}
	t := f.Transformations[0]
	return "{" + model.MetricNameLabel + "=" + strconv.Quote(SeriesName(t.MetricName)) +
		", " + LabelNamespace + "=" + strconv.Quote(t.MetricNamespace) +
		", " + LabelLogGroup + "=" + strconv.Quote(f.LogGroup) +
		", " + LabelFilter + "=" + strconv.Quote(f.Name) + "}"
}

// labels returns the labels of the filter's series with dimension values
// vals (one per c.dims, present when has&(1<<i)); an absent value leaves
// its label out.
func (c *compiled) labels(vals *[MaxDimensions]string, has uint8) labels.Labels {
	b := labels.NewScratchBuilder(4 + len(c.dims))
	b.Add(model.MetricNameLabel, c.metricName)
	b.Add(LabelNamespace, c.Transformations[0].MetricNamespace)
	b.Add(LabelLogGroup, c.LogGroup)
	b.Add(LabelFilter, c.Name)
	for i, d := range c.dims {
		if has&(1<<i) != 0 {
			b.Add(d.label, vals[i])
		}
	}
	b.Sort()
	return b.Labels()
}
