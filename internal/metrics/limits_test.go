package metrics

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
)

func TestCheckSeries(t *testing.T) {
	l := Limits{MaxLabelsPerSeries: 3, MaxLabelNameLength: 8, MaxLabelValueLength: 5}
	for _, c := range []struct {
		name string
		ls   labels.Labels
		want reason
	}{
		{"ok", labels.FromStrings("__name__", "up", "job", "a"), ""},
		{"too many labels", labels.FromStrings("__name__", "up", "a", "1", "b", "2", "c", "3"), reasonLabelsPerSeries},
		{"long name", labels.FromStrings("__name__", "up", "verylonglabel", "1"), reasonLabelNameLength},
		{"long value", labels.FromStrings("__name__", "up", "job", "toolong"), reasonLabelValueLength},
		{"no metric name", labels.FromStrings("job", "a"), reasonInvalidLabels},
		{"invalid utf8", labels.FromStrings("__name__", "up", "job", "\xff"), reasonInvalidLabels},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := l.checkSeries(c.ls)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case c.want != "" && (err == nil || err.why != c.want):
				t.Fatalf("got %v, want %s", err, c.want)
			}
		})
	}
	if err := (Limits{}).checkSeries(labels.FromStrings("__name__", "up", "x", strings.Repeat("v", 100000))); err != nil {
		t.Errorf("zero limits should be unlimited: %v", err)
	}
}

func TestRejectionSummaryIsBoundedAndNamesEachReason(t *testing.T) {
	var r rejections
	for i := 0; i < 10000; i++ {
		r.add(reasonOutOfOrder, "sample is older", labels.FromStrings("__name__", "x"))
	}
	r.add(reasonLabelsPerSeries, "series has 50 labels", labels.FromStrings("__name__", "y"))
	s := r.summary(5)
	for _, want := range []string{"stored 5 samples, rejected 10001", "10000 out_of_order", "1 max_labels_per_series", `e.g. {__name__="y"}`} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	if len(s) > 1000 {
		t.Errorf("summary grew to %d bytes", len(s))
	}
}

func TestClassifyTSDBRefusals(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("empty labelset: %w", tsdb.ErrInvalidSample),
		fmt.Errorf(`label name "a" is not unique: %w`, tsdb.ErrInvalidSample),
	} {
		if why, _, ok := classify(err); !ok || why != reasonInvalidLabels {
			t.Errorf("classify(%v) = %s, %v; want invalid_labels", err, why, ok)
		}
	}
	if _, _, ok := classify(errors.New("disk full")); ok {
		t.Error("a storage failure was classified as a sample's fault")
	}
}
