package metrics

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Limits bound what one tenant may write. Zero means unlimited.
type Limits struct {
	MaxBodyBytes        int64   // request body, after decompression
	MaxSeries           int     // active series in the head
	MaxLabelsPerSeries  int     // including __name__
	MaxLabelNameLength  int     // bytes
	MaxLabelValueLength int     // bytes
	SamplesPerSecond    float64 // sustained ingest rate
	BurstSamples        int     // ingest above the sustained rate
}

// reason names why a sample was rejected; it is the `reason` label of
// mirador_metrics_rejected_samples_total and the key of rejection reports.
type reason string

const (
	reasonLabelsPerSeries  reason = "max_labels_per_series"
	reasonLabelNameLength  reason = "max_label_name_length"
	reasonLabelValueLength reason = "max_label_value_length"
	reasonInvalidLabels    reason = "invalid_labels"
	reasonMaxSeries        reason = "max_series"
	reasonOutOfOrder       reason = "out_of_order"
	reasonTooOld           reason = "too_old"
	reasonDuplicate        reason = "duplicate_timestamp"
	reasonTooNew           reason = "too_far_in_future"
	reasonInvalidHistogram reason = "invalid_histogram"
	reasonUnsupported      reason = "unsupported"
)

// seriesError says why a series may not be stored.
type seriesError struct {
	why    reason
	detail string
}

func (e *seriesError) Error() string { return e.detail }

// checkSeries returns why ls may not be stored under l, or nil if it may.
func (l Limits) checkSeries(ls labels.Labels) *seriesError {
	if l.MaxLabelsPerSeries > 0 && ls.Len() > l.MaxLabelsPerSeries {
		return &seriesError{reasonLabelsPerSeries, fmt.Sprintf("series has %d labels, more than limits.max_labels_per_series (%d)", ls.Len(), l.MaxLabelsPerSeries)}
	}
	if err := ls.Validate(func(lb labels.Label) error {
		if l.MaxLabelNameLength > 0 && len(lb.Name) > l.MaxLabelNameLength {
			return &seriesError{reasonLabelNameLength, fmt.Sprintf("label name of %d bytes is longer than limits.max_label_name_length (%d)", len(lb.Name), l.MaxLabelNameLength)}
		}
		if l.MaxLabelValueLength > 0 && len(lb.Value) > l.MaxLabelValueLength {
			return &seriesError{reasonLabelValueLength, fmt.Sprintf("value of label %q has %d bytes, more than limits.max_label_value_length (%d)", truncate(lb.Name, 64), len(lb.Value), l.MaxLabelValueLength)}
		}
		return nil
	}); err != nil {
		return err.(*seriesError)
	}
	if !ls.Has(model.MetricNameLabel) {
		return &seriesError{reasonInvalidLabels, "series has no metric name (__name__ label)"}
	}
	if !ls.IsValid(model.UTF8Validation) {
		return &seriesError{reasonInvalidLabels, "series has an empty label name or a name or value that is not valid UTF-8"}
	}
	if dup, ok := ls.HasDuplicateLabelNames(); ok {
		return &seriesError{reasonInvalidLabels, fmt.Sprintf("series has label %q more than once", dup)}
	}
	return nil
}

// rejections tallies the samples of one request that were not stored.
type rejections struct {
	total    int
	byReason map[reason]*rejection
}

type rejection struct {
	count   int
	detail  string // the first occurrence's explanation
	example string // the first occurrence's series; empty if appended by reference
}

func (r *rejections) add(why reason, detail string, ls labels.Labels) {
	r.total++
	if r.byReason == nil {
		r.byReason = make(map[reason]*rejection)
	}
	if x, ok := r.byReason[why]; ok {
		x.count++
		return
	}
	x := &rejection{count: 1, detail: detail}
	if !ls.IsEmpty() {
		x.example = truncate(ls.String(), 200)
	}
	r.byReason[why] = x
}

// nameSeries gives ls as the example of rejections recorded without
// labels (samples appended by reference).
func (r *rejections) nameSeries(ls labels.Labels) {
	for _, x := range r.byReason {
		if x.example == "" {
			x.example = truncate(ls.String(), 200)
		}
	}
}

// summary describes the rejections, one clause per reason with an example,
// bounded in size however many samples were rejected.
func (r *rejections) summary(accepted int) string {
	if r.total == 0 {
		return ""
	}
	reasons := make([]reason, 0, len(r.byReason))
	for why := range r.byReason {
		reasons = append(reasons, why)
	}
	sort.Slice(reasons, func(i, j int) bool { return reasons[i] < reasons[j] })
	var b strings.Builder
	fmt.Fprintf(&b, "stored %d samples, rejected %d: ", accepted, r.total)
	for i, why := range reasons {
		x := r.byReason[why]
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d %s (%s", x.count, why, x.detail)
		if x.example != "" {
			fmt.Fprintf(&b, ", e.g. %s", x.example)
		}
		b.WriteString(")")
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
