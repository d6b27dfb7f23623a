package otlp

import (
	"context"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// RegisterGRPC registers the OTLP services that have consumers on s.
// Services without one answer Unimplemented, which OTLP exporters report.
func (r *Receiver) RegisterGRPC(s *grpc.Server) {
	if r.opts.Metrics != nil {
		pmetricotlp.RegisterGRPCServer(s, &grpcMetrics{r: r})
	}
	if r.opts.Logs != nil {
		plogotlp.RegisterGRPCServer(s, &grpcLogs{r: r})
	}
	if r.opts.Traces != nil {
		ptraceotlp.RegisterGRPCServer(s, &grpcTraces{r: r})
	}
}

// grpcError turns a consumer error into a gRPC status, counting it.
func (r *Receiver) grpcError(signal string, err error) error {
	code := consumerStatus(err)
	r.requests.WithLabelValues(signal, "grpc", outcomeOf(code)).Inc()
	if code >= 500 {
		r.opts.Logger.Error("store OTLP "+signal, "err", err)
	}
	st := status.New(grpcCode(code), err.Error())
	// OTLP clients retry RESOURCE_EXHAUSTED only when RetryInfo says when.
	if d, ok := retryDelay(err); ok {
		if withInfo, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)}); derr == nil {
			st = withInfo
		}
	}
	return st.Err()
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	r *Receiver
}

func (g *grpcMetrics) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	res, err := g.r.opts.Metrics.ConsumeMetrics(ctx, req.Metrics())
	if err != nil {
		return pmetricotlp.NewExportResponse(), g.r.grpcError("metrics", err)
	}
	g.r.requests.WithLabelValues("metrics", "grpc", exportOutcome(res)).Inc()
	return metricsResponse(res), nil
}

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

func (g *grpcLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(strings.ToLower(LogGroupHeader)); len(v) > 0 {
			ctx = withLogGroup(ctx, v[0])
		}
	}
	res, err := g.r.opts.Logs.ConsumeLogs(ctx, req.Logs())
	if err != nil {
		return plogotlp.NewExportResponse(), g.r.grpcError("logs", err)
	}
	g.r.requests.WithLabelValues("logs", "grpc", exportOutcome(res)).Inc()
	return logsResponse(res), nil
}

type grpcTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	r *Receiver
}

func (g *grpcTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	res, err := g.r.opts.Traces.ConsumeTraces(ctx, req.Traces())
	if err != nil {
		return ptraceotlp.NewExportResponse(), g.r.grpcError("traces", err)
	}
	g.r.requests.WithLabelValues("traces", "grpc", exportOutcome(res)).Inc()
	return tracesResponse(res), nil
}
