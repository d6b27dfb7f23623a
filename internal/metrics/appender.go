package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// maxAhead is how far in the future a sample may be, as in Prometheus.
const maxAhead = 10 * time.Minute

// ingestAppender appends one request's samples to a tenant's TSDB. A sample
// that may not be stored (its series breaks the tenant's limits, it is out
// of order or too far ahead) is recorded in rejected and skipped (Append
// returns 0, nil), so the rest of the batch is kept; only storage failures
// are returned as errors. Series are validated by seriesGate when the TSDB
// creates them, so samples of existing series pay for no validation.
type ingestAppender struct {
	app     storage.AppenderV2
	t       *tenantDB
	maxTime int64

	// The last series appended and its timestamp: the TSDB checks order
	// against committed samples only and silently drops, at commit, a
	// sample older than one earlier in the same batch, so such samples are
	// rejected here instead. Consecutive appends cover remote write (a
	// series' samples arrive together); a series repeated later in a batch
	// is not tracked, to keep the hot path free of per-sample map work.
	lastRef storage.SeriesRef
	lastT   int64

	floats, histograms, exemplars int
	rejected                      rejections
}

var _ storage.AppenderV2 = (*ingestAppender)(nil)

func (t *tenantDB) ingestAppender(ctx context.Context) *ingestAppender {
	return &ingestAppender{
		app:     t.db.AppenderV2(ctx),
		t:       t,
		maxTime: timestamp.FromTime(time.Now().Add(maxAhead)),
	}
}

func (a *ingestAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	if ref != 0 && ref == a.lastRef && t <= a.lastT {
		switch {
		case t == a.lastT:
			a.rejected.add(reasonDuplicate, "series has two samples with the same timestamp in one request", ls)
			return 0, nil
		case a.lastT-t > a.t.oooWindow:
			a.rejected.add(reasonOutOfOrder, "sample is older than an earlier sample of its series in the same request; set metrics.out_of_order_window to accept late samples", ls)
			return 0, nil
		}
	}
	if t > a.maxTime {
		a.rejected.add(reasonTooNew, fmt.Sprintf("timestamp %s is more than %s ahead of the server clock", timestamp.Time(t).UTC().Format(time.RFC3339), maxAhead), ls)
		return 0, nil
	}
	if h != nil && h.Schema > histogram.ExponentialSchemaMax && h.Schema <= histogram.ExponentialSchemaMaxReserved {
		if err := h.ReduceResolution(histogram.ExponentialSchemaMax); err != nil {
			a.rejected.add(reasonInvalidHistogram, err.Error(), ls)
			return 0, nil
		}
	}
	if fh != nil && fh.Schema > histogram.ExponentialSchemaMax && fh.Schema <= histogram.ExponentialSchemaMaxReserved {
		if err := fh.ReduceResolution(histogram.ExponentialSchemaMax); err != nil {
			a.rejected.add(reasonInvalidHistogram, err.Error(), ls)
			return 0, nil
		}
	}
	got, err := a.app.Append(ref, ls, st, t, v, h, fh, opts)
	droppedExemplars := 0
	if err != nil {
		var partial *storage.AppendPartialError
		if errors.As(err, &partial) {
			droppedExemplars = len(partial.ExemplarErrors) // the sample itself was stored
		} else if ref != 0 && ls.IsEmpty() && errors.Is(err, tsdb.ErrInvalidSample) {
			return 0, errStaleRef
		} else if why, detail, ok := classify(err); ok {
			a.rejected.add(why, detail, ls)
			return 0, nil
		} else {
			return 0, err
		}
	}
	a.lastRef, a.lastT = got, t
	if h != nil || fh != nil {
		a.histograms++
	} else {
		a.floats++
	}
	a.exemplars += len(opts.Exemplars) - droppedExemplars
	return got, nil
}

func (a *ingestAppender) Commit() error   { return a.app.Commit() }
func (a *ingestAppender) Rollback() error { return a.app.Rollback() }

// stored is the number of samples (floats and histograms) appended.
func (a *ingestAppender) stored() int { return a.floats + a.histograms }

// errStaleRef: a sample was appended by a reference without labels, and
// the head no longer has that series. The caller retries with the labels.
var errStaleRef = errors.New("series reference is no longer in the head")

// classify maps a TSDB append error caused by the sample itself to a reason.
func classify(err error) (reason, string, bool) {
	var se *seriesError
	var he histogram.Error
	switch {
	case errors.As(err, &se):
		return se.why, se.detail, true
	case errors.Is(err, tsdb.ErrInvalidSample): // empty label set, repeated label name
		return reasonInvalidLabels, err.Error(), true
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return reasonOutOfOrder, "sample is older than the newest one of its series; set metrics.out_of_order_window to accept late samples", true
	case errors.Is(err, storage.ErrTooOldSample), errors.Is(err, storage.ErrOutOfBounds):
		return reasonTooOld, "sample is older than the TSDB head accepts", true
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return reasonDuplicate, "series already has a different value at this timestamp", true
	case errors.As(err, &he):
		return reasonInvalidHistogram, err.Error(), true
	}
	return "", "", false
}

// RateLimitError reports that a tenant sent more samples than its
// ingest rate allows; nothing of the request was stored. Unless TooLarge,
// the same request will be accepted after RetryAfter.
type RateLimitError struct {
	Tenant     string
	Samples    int
	TooLarge   bool // the request alone exceeds the burst: retrying cannot help
	RetryAfter time.Duration
	Limits     Limits
}

func (e *RateLimitError) Error() string {
	if e.TooLarge {
		return fmt.Sprintf("request of %d samples exceeds tenant %s's limits.ingest_burst_samples (%d): send smaller batches", e.Samples, e.Tenant, e.Limits.BurstSamples)
	}
	return fmt.Sprintf("tenant %s is over its ingest rate (limits.ingest_samples_per_second %g, burst %d): retry after %s or raise the limit",
		e.Tenant, e.Limits.SamplesPerSecond, e.Limits.BurstSamples, e.RetryAfter.Round(time.Millisecond))
}

// StatusCode is the HTTP status a receiver answers a rate-limited request
// with: 413 when the request alone exceeds the burst, else 429.
func (e *RateLimitError) StatusCode() int {
	if e.TooLarge {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusTooManyRequests
}

// RetryDelay is how long the sender should wait before retrying.
func (e *RateLimitError) RetryDelay() time.Duration { return e.RetryAfter }

// admit reserves n samples of the tenant's ingest rate, or reports how long
// to wait. A refused request consumes nothing.
func (t *tenantDB) admit(n int) error {
	if t.limiter == nil || n == 0 {
		return nil
	}
	now := time.Now()
	r := t.limiter.ReserveN(now, n)
	if !r.OK() {
		return &RateLimitError{Tenant: t.id, Samples: n, TooLarge: true, Limits: t.limits}
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &RateLimitError{Tenant: t.id, Samples: n, RetryAfter: d, Limits: t.limits}
	}
	return nil
}

// record counts a finished request in the self-metrics.
func (e *Engine) record(t *tenantDB, protocol string, a *ingestAppender) {
	if n := a.stored(); n > 0 {
		e.ingested.WithLabelValues(t.id, protocol).Add(float64(n))
	}
	for why, x := range a.rejected.byReason {
		e.rejected.WithLabelValues(t.id, string(why)).Add(float64(x.count))
	}
}
