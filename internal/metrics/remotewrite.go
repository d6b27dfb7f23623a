package metrics

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage"
)

// RemoteWriteHandler receives Prometheus remote write 1.0 and 2.0 into the
// TSDB of the tenant carried by the request context. Content negotiation and
// the 2.0 response headers come from Prometheus's remote-write library; the
// body limit, the tenant's limits and partial writes are Mirador's.
//
// A request whose samples are all stored gets 204. One with rejected samples
// gets 400 naming each reason with an example, after its valid samples are
// stored (so a sender that drops the batch on 400 loses only the rejected
// samples). Over the ingest rate: 429 with Retry-After, nothing stored.
func (e *Engine) RemoteWriteHandler() http.Handler {
	return remoteapi.NewWriteHandler(remoteWriteStore{e},
		remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType},
		remoteapi.WithWriteHandlerLogger(e.logger.With("component", "remote write")),
		remoteapi.WithWriteHandlerMiddlewares(e.decodeSnappy),
	)
}

type bodyKey struct{}

// bodyBuffers recycles the compressed and decompressed request bodies: at
// high ingest rates they are the largest allocations per request.
var bodyBuffers = sync.Pool{New: func() any { return new(bodyBuffer) }}

type bodyBuffer struct {
	compressed bytes.Buffer
	decoded    []byte
}

// decodeSnappy reads the snappy-compressed body within the tenant's body
// limit and hands the decoded bytes to the store through the context.
func (e *Engine) decodeSnappy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := e.tenantOf(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
			http.Error(w, fmt.Sprintf("remote write bodies must be snappy block-compressed (Content-Encoding: snappy), not %q", enc), http.StatusUnsupportedMediaType)
			return
		}
		limit := t.limits.MaxBodyBytes
		buf := bodyBuffers.Get().(*bodyBuffer)
		defer bodyBuffers.Put(buf)
		buf.compressed.Reset()
		if err := readBody(&buf.compressed, r.Body, limit); err != nil {
			writeBodyError(w, err)
			return
		}
		n, err := snappy.DecodedLen(buf.compressed.Bytes())
		if err != nil {
			http.Error(w, "body is not snappy block-compressed: "+err.Error(), http.StatusBadRequest)
			return
		}
		if limit > 0 && int64(n) > limit {
			writeBodyError(w, &BodyTooLargeError{Limit: limit, Decoded: true})
			return
		}
		if cap(buf.decoded) < n {
			buf.decoded = make([]byte, n)
		}
		decoded, err := snappy.Decode(buf.decoded[:n], buf.compressed.Bytes())
		if err != nil {
			http.Error(w, "body is not snappy block-compressed: "+err.Error(), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, decoded)))
	})
}

// BodyTooLargeError reports a request body over limits.max_request_body_bytes.
type BodyTooLargeError struct {
	Limit   int64
	Decoded bool // the limit was exceeded after decompression
}

func (e *BodyTooLargeError) Error() string {
	what := "request body"
	if e.Decoded {
		what = "decompressed request body"
	}
	return fmt.Sprintf("%s exceeds limits.max_request_body_bytes (%d bytes): send smaller batches", what, e.Limit)
}

// readBody copies r into dst, failing with *BodyTooLargeError past limit
// bytes (0 = unlimited).
func readBody(dst *bytes.Buffer, r io.Reader, limit int64) error {
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	n, err := dst.ReadFrom(r)
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if limit > 0 && n > limit {
		return &BodyTooLargeError{Limit: limit}
	}
	return nil
}

func writeBodyError(w http.ResponseWriter, err error) {
	var tooLarge *BodyTooLargeError
	if errors.As(err, &tooLarge) {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	http.Error(w, err.Error(), http.StatusBadRequest)
}

type remoteWriteStore struct{ e *Engine }

func (s remoteWriteStore) Store(r *http.Request, msgType remoteapi.WriteMessageType) (*remoteapi.WriteResponse, error) {
	resp := remoteapi.NewWriteResponse()
	ctx := r.Context()
	t, err := s.e.tenantOf(ctx)
	if err != nil {
		resp.SetStatusCode(http.StatusInternalServerError)
		return resp, err
	}
	body, _ := ctx.Value(bodyKey{}).([]byte)

	var a *ingestAppender
	if msgType == remoteapi.WriteV1MessageType {
		a, err = writeV1(ctx, t, body)
	} else {
		a, err = writeV2(ctx, t, body)
	}
	var rateErr *RateLimitError
	var decodeErr decodeError
	switch {
	case errors.As(err, &decodeErr):
		resp.SetStatusCode(http.StatusBadRequest)
		return resp, err
	case errors.As(err, &rateErr):
		resp.SetStatusCode(rateErr.StatusCode())
		if !rateErr.TooLarge {
			resp.SetExtraHeader("Retry-After", retryAfterSeconds(rateErr.RetryAfter))
		}
		s.e.rejected.WithLabelValues(t.id, "rate_limited").Add(float64(rateErr.Samples))
		return resp, err
	case err != nil:
		resp.SetStatusCode(http.StatusInternalServerError)
		return resp, err
	}
	s.e.record(t, "remote_write", a)
	resp.Add(remoteapi.WriteResponseStats{Samples: a.floats, Histograms: a.histograms, Exemplars: a.exemplars})
	if a.rejected.total > 0 {
		resp.SetStatusCode(http.StatusBadRequest)
		return resp, errors.New(a.rejected.summary(a.stored()))
	}
	return resp, nil
}

// decodeError marks a body that is not a valid remote-write message.
type decodeError struct{ error }

// retryAfterSeconds renders d as a Retry-After header value: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

// writeV1 stores a remote-write 1.0 message in one pass: it decodes and
// appends, then takes the samples from the tenant's ingest rate before
// committing. A body that does not decode, or a request over the rate, is
// rolled back and stores nothing. Exemplars ride on the series' last
// sample, as AppenderV2 expects.
func writeV1(ctx context.Context, t *tenantDB, body []byte) (*ingestAppender, error) {
	a := t.ingestAppender(ctx)
	d := v1Decoders.Get().(*v1Series)
	defer v1Decoders.Put(d)
	var exemplars []exemplar.Exemplar
	var storeErr error // a storage failure, as opposed to a malformed body
	seen := 0
	err := forEachSeriesV1(body, func(msg []byte) error {
		key, samples, full, err := d.scan(msg)
		if err != nil {
			return fmt.Errorf("time series: %w", err)
		}
		if full == nil {
			seen += len(samples)
			ref := t.refs.get(key)
			var ls labels.Labels
			if ref == 0 {
				if ls, err = d.labels(); err != nil {
					return fmt.Errorf("time series labels: %w", err)
				}
			}
			storeErr = appendSamplesV1(a, t.refs, d, key, ref, ls, samples)
			return storeErr
		}
		ls := full.ToLabels(&d.b, nil)
		seen += len(full.Samples) + len(full.Histograms)
		exemplars = exemplars[:0]
		for _, ep := range full.Exemplars {
			exemplars = append(exemplars, ep.ToExemplar(&d.b, nil))
		}
		storeErr = appendSeries(a, ls, len(full.Samples), len(full.Histograms), exemplars,
			func(i int) (int64, int64, float64) { return 0, full.Samples[i].Timestamp, full.Samples[i].Value },
			func(i int, opts storage.AOptions, ref storage.SeriesRef) (storage.SeriesRef, error) {
				hp := full.Histograms[i]
				if hp.IsFloatHistogram() {
					return a.Append(ref, ls, 0, hp.Timestamp, 0, nil, hp.ToFloatHistogram(), opts)
				}
				return a.Append(ref, ls, 0, hp.Timestamp, 0, hp.ToIntHistogram(), nil, opts)
			}, storage.AOptions{})
		return storeErr
	})
	switch {
	case err != nil && storeErr == nil:
		err = decodeError{fmt.Errorf("decode remote write 1.0 message (prometheus.WriteRequest): %w", err)}
	case err == nil:
		err = t.admit(seen)
	}
	if err != nil {
		_ = a.Rollback()
		return nil, err
	}
	if err := a.Commit(); err != nil {
		return nil, fmt.Errorf("commit samples: %w", err)
	}
	return a, nil
}

// appendSamplesV1 appends the float samples of the series d last scanned:
// by ref when refs knew its key (ls empty), else by its labels ls, caching
// the reference the TSDB returns. Only storage failures are returned; the
// labels of a cached key decoded once already, so they decode again.
func appendSamplesV1(a *ingestAppender, refs *refCache, d *v1Series, key []byte, ref storage.SeriesRef, ls labels.Labels, samples []prompb.Sample) error {
	for _, s := range samples {
		rejected := a.rejected.total
		got, err := a.Append(ref, ls, 0, s.Timestamp, s.Value, nil, nil, storage.AOptions{})
		if errors.Is(err, errStaleRef) { // the head dropped the series since it was cached
			refs.forget(key)
			ls, _ = d.labels()
			ref = 0
			got, err = a.Append(0, ls, 0, s.Timestamp, s.Value, nil, nil, storage.AOptions{})
		}
		if err != nil {
			return err
		}
		if a.rejected.total > rejected && ls.IsEmpty() {
			ls, _ = d.labels() // name the series in the rejection report
			a.rejected.nameSeries(ls)
		}
		if got != 0 {
			if ref == 0 {
				refs.put(key, got)
			}
			ref = got
		}
	}
	return nil
}

var v1Decoders = sync.Pool{New: func() any { return &v1Series{b: labels.NewScratchBuilder(16)} }}

// writeV2 stores a remote-write 2.0 message, with its symbols table,
// metadata and start timestamps.
func writeV2(ctx context.Context, t *tenantDB, body []byte) (*ingestAppender, error) {
	var req writev2.Request
	if err := req.Unmarshal(body); err != nil {
		return nil, decodeError{fmt.Errorf("decode remote write 2.0 message (io.prometheus.write.v2.Request): %w", err)}
	}
	n := 0
	for i := range req.Timeseries {
		n += len(req.Timeseries[i].Samples) + len(req.Timeseries[i].Histograms)
	}
	if err := t.admit(n); err != nil {
		return nil, err
	}
	a := t.ingestAppender(ctx)
	b := labels.NewScratchBuilder(16)
	var exemplars []exemplar.Exemplar
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		ls, err := ts.ToLabels(&b, req.Symbols)
		if err == nil && len(ts.Samples)+len(ts.Histograms) == 0 {
			err = errors.New("time series has no samples or histograms")
		}
		var opts storage.AOptions
		if err == nil {
			opts.Metadata, err = ts.ToMetadata(req.Symbols)
		}
		exemplars = exemplars[:0]
		for _, ep := range ts.Exemplars {
			if err != nil {
				break
			}
			var e exemplar.Exemplar
			if e, err = ep.ToExemplar(&b, req.Symbols); err == nil {
				exemplars = append(exemplars, e)
			}
		}
		if err != nil {
			a.rejected.add(reasonInvalidLabels, err.Error(), ls)
			continue
		}
		if err := appendSeries(a, ls, len(ts.Samples), len(ts.Histograms), exemplars,
			func(i int) (int64, int64, float64) {
				s := ts.Samples[i]
				return s.StartTimestamp, s.Timestamp, s.Value
			},
			func(i int, opts storage.AOptions, ref storage.SeriesRef) (storage.SeriesRef, error) {
				hp := ts.Histograms[i]
				if hp.IsFloatHistogram() {
					return a.Append(ref, ls, hp.StartTimestamp, hp.Timestamp, 0, nil, hp.ToFloatHistogram(), opts)
				}
				return a.Append(ref, ls, hp.StartTimestamp, hp.Timestamp, 0, hp.ToIntHistogram(), nil, opts)
			}, opts); err != nil {
			_ = a.Rollback()
			return nil, err
		}
	}
	if err := a.Commit(); err != nil {
		return nil, fmt.Errorf("commit samples: %w", err)
	}
	return a, nil
}

// appendSeries appends one series' float samples, then its histograms,
// attaching exemplars to the last of them.
func appendSeries(a *ingestAppender, ls labels.Labels, floats, histograms int, exemplars []exemplar.Exemplar,
	float func(i int) (st, t int64, v float64),
	hist func(i int, opts storage.AOptions, ref storage.SeriesRef) (storage.SeriesRef, error),
	opts storage.AOptions,
) error {
	if len(exemplars) > 1 {
		slices.SortFunc(exemplars, func(x, y exemplar.Exemplar) int { return cmp.Compare(x.Ts, y.Ts) })
	}
	var ref storage.SeriesRef
	var err error
	last := floats + histograms - 1
	for i := 0; i < floats; i++ {
		o := opts
		if i == last {
			o.Exemplars = exemplars
		}
		st, t, v := float(i)
		if ref, err = a.Append(ref, ls, st, t, v, nil, nil, o); err != nil {
			return err
		}
	}
	for i := 0; i < histograms; i++ {
		o := opts
		if floats+i == last {
			o.Exemplars = exemplars
		}
		if ref, err = hist(i, o, ref); err != nil {
			return err
		}
	}
	return nil
}
