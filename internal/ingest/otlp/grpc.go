package otlp

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// RegisterGRPC registers the OTLP services that have consumers on s.
// Services without one answer Unimplemented, which OTLP exporters report.
func (r *Receiver) RegisterGRPC(s *grpc.Server) {
	if r.opts.Metrics != nil {
		pmetricotlp.RegisterGRPCServer(s, &grpcMetrics{r: r})
	}
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	r *Receiver
}

func (g *grpcMetrics) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	res, err := g.r.opts.Metrics.ConsumeMetrics(ctx, req.Metrics())
	if err != nil {
		code := consumerStatus(err)
		g.r.requests.WithLabelValues("metrics", "grpc", outcomeOf(code)).Inc()
		if code >= 500 {
			g.r.opts.Logger.Error("store OTLP metrics", "err", err)
		}
		st := status.New(grpcCode(code), err.Error())
		// OTLP clients retry RESOURCE_EXHAUSTED only when RetryInfo says when.
		if d, ok := retryDelay(err); ok {
			if withInfo, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)}); derr == nil {
				st = withInfo
			}
		}
		return pmetricotlp.NewExportResponse(), st.Err()
	}
	resp, outcome := exportResponse(res)
	g.r.requests.WithLabelValues("metrics", "grpc", outcome).Inc()
	return resp, nil
}
