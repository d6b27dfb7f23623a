package otlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// Result reports what a consumer did with an export.
type Result struct {
	Rejected int64  // data points not stored
	Message  string // why; non-empty with Rejected 0 is a warning
}

// MetricsConsumer stores decoded metrics. It returns an error only when
// nothing was stored; an error with a StatusCode() int method chooses the
// HTTP status (and gRPC code), one with RetryDelay() time.Duration sets
// Retry-After.
type MetricsConsumer interface {
	ConsumeMetrics(ctx context.Context, md pmetric.Metrics) (Result, error)
}

// MetricsConsumerFunc adapts a function to MetricsConsumer.
type MetricsConsumerFunc func(ctx context.Context, md pmetric.Metrics) (Result, error)

// ConsumeMetrics calls f.
func (f MetricsConsumerFunc) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) (Result, error) {
	return f(ctx, md)
}

// ErrUnavailable marks consumer errors that a sender should retry later,
// such as a server shutting down.
var ErrUnavailable = errors.New("temporarily unavailable")

// Options configure a Receiver.
type Options struct {
	Metrics MetricsConsumer
	// BodyLimit returns the largest body accepted for the request's
	// context (after decompression); 0 means unlimited.
	BodyLimit  func(ctx context.Context) int64
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Receiver serves OTLP exports. It is safe for concurrent use.
type Receiver struct {
	opts     Options
	requests *prometheus.CounterVec
}

// NewReceiver returns a Receiver for the consumers in opts.
func NewReceiver(opts Options) *Receiver {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BodyLimit == nil {
		opts.BodyLimit = func(context.Context) int64 { return 0 }
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	return &Receiver{
		opts: opts,
		requests: promauto.With(opts.Registerer).NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_otlp_requests_total",
			Help: "OTLP export requests, by signal, transport and outcome (ok, partial, rejected, error).",
		}, []string{"signal", "transport", "outcome"}),
	}
}

// Handler serves OTLP/HTTP at /v1/metrics, /v1/logs and /v1/traces.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/metrics", r.MetricsHandler())
	for _, signal := range []string{"logs", "traces"} {
		mux.HandleFunc("/v1/"+signal, func(w http.ResponseWriter, req *http.Request) {
			r.requests.WithLabelValues(signal, "http", "rejected").Inc()
			writeStatus(w, req, http.StatusNotFound, fmt.Sprintf("this Mirador server does not accept OTLP %s yet; it accepts metrics at /v1/metrics", signal))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeStatus(w, req, http.StatusNotFound, fmt.Sprintf("no OTLP endpoint at %s: use /v1/metrics", req.URL.Path))
	})
	return mux
}

// MetricsHandler serves OTLP/HTTP metrics exports at any path.
func (r *Receiver) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		outcome := r.serveMetrics(w, req)
		r.requests.WithLabelValues("metrics", "http", outcome).Inc()
	})
}

func (r *Receiver) serveMetrics(w http.ResponseWriter, req *http.Request) string {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, req, http.StatusMethodNotAllowed, "OTLP exports are sent with POST")
		return "rejected"
	}
	if r.opts.Metrics == nil {
		writeStatus(w, req, http.StatusNotFound, "this Mirador server does not accept OTLP metrics")
		return "rejected"
	}
	format, err := requestFormat(req)
	if err != nil {
		writeStatus(w, req, http.StatusUnsupportedMediaType, err.Error())
		return "rejected"
	}
	body, status, err := readBody(req, r.opts.BodyLimit(req.Context()))
	if err != nil {
		writeStatus(w, req, status, err.Error())
		return "rejected"
	}
	ereq := pmetricotlp.NewExportRequest()
	if format == formatJSON {
		err = ereq.UnmarshalJSON(body)
	} else {
		err = ereq.UnmarshalProto(body)
	}
	if err != nil {
		writeStatus(w, req, http.StatusBadRequest, fmt.Sprintf("decode OTLP metrics (%s): %v", format, err))
		return "rejected"
	}

	res, err := r.opts.Metrics.ConsumeMetrics(req.Context(), ereq.Metrics())
	if err != nil {
		status := consumerStatus(err)
		if d, ok := retryDelay(err); ok {
			w.Header().Set("Retry-After", strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10))
		}
		if status >= 500 {
			r.opts.Logger.Error("store OTLP metrics", "err", err)
		}
		writeStatus(w, req, status, err.Error())
		return outcomeOf(status)
	}

	resp, outcome := exportResponse(res)
	var out []byte
	if format == formatJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		writeStatus(w, req, http.StatusInternalServerError, "encode OTLP response: "+err.Error())
		return "error"
	}
	w.Header().Set("Content-Type", string(format))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return outcome
}

// exportResponse reports a consumer's result as OTLP partial success.
func exportResponse(res Result) (pmetricotlp.ExportResponse, string) {
	resp := pmetricotlp.NewExportResponse()
	if res.Rejected == 0 && res.Message == "" {
		return resp, "ok"
	}
	ps := resp.PartialSuccess()
	ps.SetRejectedDataPoints(res.Rejected)
	ps.SetErrorMessage(res.Message)
	return resp, "partial"
}

type format string

const (
	formatProto format = "application/x-protobuf"
	formatJSON  format = "application/json"
)

func requestFormat(req *http.Request) (format, error) {
	ct := req.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		switch format(mt) {
		case formatProto, formatJSON:
			return format(mt), nil
		}
	}
	return "", fmt.Errorf("unsupported Content-Type %q: send OTLP as application/x-protobuf or application/json", ct)
}

// readBody reads the (possibly gzip-compressed) body, at most limit bytes
// after decompression.
func readBody(req *http.Request, limit int64) ([]byte, int, error) {
	var src io.Reader = req.Body
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported Content-Encoding %q: send the body uncompressed or gzip-compressed", enc)
	}
	if limit > 0 {
		src = io.LimitReader(src, limit+1)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(src); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %v", err)
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds limits.max_request_body_bytes (%d bytes after decompression): send smaller batches", limit)
	}
	return buf.Bytes(), 0, nil
}

func consumerStatus(err error) int {
	var coded interface{ StatusCode() int }
	switch {
	case errors.As(err, &coded):
		return coded.StatusCode()
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func retryDelay(err error) (time.Duration, bool) {
	var r interface{ RetryDelay() time.Duration }
	if errors.As(err, &r) && r.RetryDelay() > 0 {
		return r.RetryDelay(), true
	}
	return 0, false
}

func outcomeOf(status int) string {
	if status >= 500 {
		return "error"
	}
	return "rejected"
}
