package otlp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/miradorhq/mirador/internal/ingest"
)

// Result reports what a consumer did with an export.
type Result struct {
	Rejected int64  // data points or log records not stored
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

// LogsConsumer stores decoded log records, with the same error contract as
// MetricsConsumer. LogGroupFromContext gives the group the sender asked for.
type LogsConsumer interface {
	ConsumeLogs(ctx context.Context, ld plog.Logs) (Result, error)
}

// LogsConsumerFunc adapts a function to LogsConsumer.
type LogsConsumerFunc func(ctx context.Context, ld plog.Logs) (Result, error)

// ConsumeLogs calls f.
func (f LogsConsumerFunc) ConsumeLogs(ctx context.Context, ld plog.Logs) (Result, error) {
	return f(ctx, ld)
}

// TracesConsumer stores decoded spans, with the same error contract as
// MetricsConsumer.
type TracesConsumer interface {
	ConsumeTraces(ctx context.Context, td ptrace.Traces) (Result, error)
}

// TracesConsumerFunc adapts a function to TracesConsumer.
type TracesConsumerFunc func(ctx context.Context, td ptrace.Traces) (Result, error)

// ConsumeTraces calls f.
func (f TracesConsumerFunc) ConsumeTraces(ctx context.Context, td ptrace.Traces) (Result, error) {
	return f(ctx, td)
}

// LogGroupHeader names the log group of every record of an export, over
// the records' own service.name; over gRPC it is the metadata key
// x-mirador-log-group.
const LogGroupHeader = "X-Mirador-Log-Group"

type logGroupKey struct{}

// LogGroupFromContext returns the log group a sender set with
// LogGroupHeader, or "".
func LogGroupFromContext(ctx context.Context) string {
	g, _ := ctx.Value(logGroupKey{}).(string)
	return g
}

func withLogGroup(ctx context.Context, group string) context.Context {
	if group == "" {
		return ctx
	}
	return context.WithValue(ctx, logGroupKey{}, group)
}

// ErrUnavailable marks consumer errors that a sender should retry later,
// such as a server shutting down.
var ErrUnavailable = errors.New("temporarily unavailable")

// Options configure a Receiver.
type Options struct {
	Metrics MetricsConsumer
	Logs    LogsConsumer
	Traces  TracesConsumer
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
	mux.Handle("/v1/logs", r.LogsHandler())
	mux.Handle("/v1/traces", r.TracesHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeStatus(w, req, http.StatusNotFound, fmt.Sprintf("no OTLP endpoint at %s: use /v1/metrics, /v1/logs or /v1/traces", req.URL.Path))
	})
	return mux
}

// MetricsHandler serves OTLP/HTTP metrics exports at any path.
func (r *Receiver) MetricsHandler() http.Handler {
	return r.exportHandler("metrics", r.opts.Metrics != nil, func(ctx context.Context, body []byte, f format) (exportResponse, Result, error) {
		ereq := pmetricotlp.NewExportRequest()
		if err := unmarshal(ereq, body, f); err != nil {
			return nil, Result{}, err
		}
		res, err := r.opts.Metrics.ConsumeMetrics(ctx, ereq.Metrics())
		return metricsResponse(res), res, err
	})
}

// LogsHandler serves OTLP/HTTP logs exports at any path.
func (r *Receiver) LogsHandler() http.Handler {
	return r.exportHandler("logs", r.opts.Logs != nil, func(ctx context.Context, body []byte, f format) (exportResponse, Result, error) {
		ereq := plogotlp.NewExportRequest()
		if err := unmarshal(ereq, body, f); err != nil {
			return nil, Result{}, err
		}
		res, err := r.opts.Logs.ConsumeLogs(ctx, ereq.Logs())
		return logsResponse(res), res, err
	})
}

// TracesHandler serves OTLP/HTTP trace exports at any path.
func (r *Receiver) TracesHandler() http.Handler {
	return r.exportHandler("traces", r.opts.Traces != nil, func(ctx context.Context, body []byte, f format) (exportResponse, Result, error) {
		ereq := ptraceotlp.NewExportRequest()
		if err := unmarshal(ereq, body, f); err != nil {
			return nil, Result{}, err
		}
		res, err := r.opts.Traces.ConsumeTraces(ctx, ereq.Traces())
		return tracesResponse(res), res, err
	})
}

// exportResponse is an OTLP Export*ServiceResponse.
type exportResponse interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// decodeError marks a body that is not a valid export request.
type decodeError struct{ err error }

func (e decodeError) Error() string { return e.err.Error() }

func unmarshal(req interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}, body []byte, f format) error {
	var err error
	if f == formatJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return decodeError{err}
	}
	return nil
}

// exportHandler serves one signal over OTLP/HTTP: it checks the method,
// encoding and size, then lets export decode and store the body.
func (r *Receiver) exportHandler(signal string, enabled bool, export func(ctx context.Context, body []byte, f format) (exportResponse, Result, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		outcome := r.serveExport(signal, enabled, export, w, req)
		r.requests.WithLabelValues(signal, "http", outcome).Inc()
	})
}

func (r *Receiver) serveExport(signal string, enabled bool, export func(ctx context.Context, body []byte, f format) (exportResponse, Result, error), w http.ResponseWriter, req *http.Request) string {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, req, http.StatusMethodNotAllowed, "OTLP exports are sent with POST")
		return "rejected"
	}
	if !enabled {
		writeStatus(w, req, http.StatusNotFound, "this Mirador server does not accept OTLP "+signal)
		return "rejected"
	}
	format, err := requestFormat(req)
	if err != nil {
		writeStatus(w, req, http.StatusUnsupportedMediaType, err.Error())
		return "rejected"
	}
	body, status, err := ingest.ReadBody(req, r.opts.BodyLimit(req.Context()))
	if err != nil {
		writeStatus(w, req, status, err.Error())
		return "rejected"
	}
	ctx := withLogGroup(req.Context(), req.Header.Get(LogGroupHeader))
	resp, res, err := export(ctx, body, format)
	var bad decodeError
	if errors.As(err, &bad) {
		writeStatus(w, req, http.StatusBadRequest, fmt.Sprintf("decode OTLP %s (%s): %v", signal, format, bad.err))
		return "rejected"
	}
	if err != nil {
		status := consumerStatus(err)
		if d, ok := retryDelay(err); ok {
			w.Header().Set("Retry-After", strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10))
		}
		if status >= 500 {
			r.opts.Logger.Error("store OTLP "+signal, "err", err)
		}
		writeStatus(w, req, status, err.Error())
		return outcomeOf(status)
	}

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
	return exportOutcome(res)
}

// exportOutcome names a stored export's outcome for the self-metrics.
func exportOutcome(res Result) string {
	if res.Rejected == 0 && res.Message == "" {
		return "ok"
	}
	return "partial"
}

// metricsResponse reports a consumer's result as OTLP partial success.
func metricsResponse(res Result) pmetricotlp.ExportResponse {
	resp := pmetricotlp.NewExportResponse()
	if res.Rejected != 0 || res.Message != "" {
		resp.PartialSuccess().SetRejectedDataPoints(res.Rejected)
		resp.PartialSuccess().SetErrorMessage(res.Message)
	}
	return resp
}

// logsResponse reports a consumer's result as OTLP partial success.
func logsResponse(res Result) plogotlp.ExportResponse {
	resp := plogotlp.NewExportResponse()
	if res.Rejected != 0 || res.Message != "" {
		resp.PartialSuccess().SetRejectedLogRecords(res.Rejected)
		resp.PartialSuccess().SetErrorMessage(res.Message)
	}
	return resp
}

// tracesResponse reports a consumer's result as OTLP partial success.
func tracesResponse(res Result) ptraceotlp.ExportResponse {
	resp := ptraceotlp.NewExportResponse()
	if res.Rejected != 0 || res.Message != "" {
		resp.PartialSuccess().SetRejectedSpans(res.Rejected)
		resp.PartialSuccess().SetErrorMessage(res.Message)
	}
	return resp
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
