package otlp

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	grpcstatus "google.golang.org/grpc/status"
)

// logsRecorder records the logs and the requested group it was given.
type logsRecorder struct {
	got    []plog.Logs
	groups []string
	result Result
	err    error
}

func (r *logsRecorder) ConsumeLogs(ctx context.Context, ld plog.Logs) (Result, error) {
	r.got = append(r.got, ld)
	r.groups = append(r.groups, LogGroupFromContext(ctx))
	return r.result, r.err
}

func sampleLogs() plogotlp.ExportRequest {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("payment accepted")
	return plogotlp.NewExportRequestFromLogs(ld)
}

func TestHTTPLogsExport(t *testing.T) {
	for _, tc := range []struct {
		name, contentType string
		marshal           func(plogotlp.ExportRequest) ([]byte, error)
	}{
		{"protobuf", "application/x-protobuf", plogotlp.ExportRequest.MarshalProto},
		{"json", "application/json", plogotlp.ExportRequest.MarshalJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &logsRecorder{result: Result{Rejected: 1, Message: "record 0: too large"}}
			r := NewReceiver(Options{Logs: rec})
			body, err := tc.marshal(sampleLogs())
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set(LogGroupHeader, "payments")
			w := httptest.NewRecorder()
			r.Handler().ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if len(rec.got) != 1 || rec.got[0].LogRecordCount() != 1 || rec.groups[0] != "payments" {
				t.Fatalf("consumer got %d exports, groups %q", len(rec.got), rec.groups)
			}
			resp := plogotlp.NewExportResponse()
			if tc.contentType == "application/json" {
				err = resp.UnmarshalJSON(w.Body.Bytes())
			} else {
				err = resp.UnmarshalProto(w.Body.Bytes())
			}
			if err != nil {
				t.Fatal(err)
			}
			if ps := resp.PartialSuccess(); ps.RejectedLogRecords() != 1 || ps.ErrorMessage() != "record 0: too large" {
				t.Errorf("partial success = %d %q", ps.RejectedLogRecords(), ps.ErrorMessage())
			}
		})
	}
}

func TestHTTPLogsMalformedBodyIs400(t *testing.T) {
	rec := &logsRecorder{}
	r := NewReceiver(Options{Logs: rec})
	req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader([]byte{0xff, 0xff, 0xff}))
	req.Header.Set("Content-Type", "application/x-protobuf")
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || len(rec.got) != 0 {
		t.Fatalf("status %d, consumer called %d times", w.Code, len(rec.got))
	}
}

func TestGRPCLogsExport(t *testing.T) {
	rec := &logsRecorder{}
	r := NewReceiver(Options{Logs: rec})
	srv := grpc.NewServer()
	r.RegisterGRPC(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := plogotlp.NewGRPCClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-mirador-log-group", "audit")
	if _, err := client.Export(ctx, sampleLogs()); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || rec.groups[0] != "audit" {
		t.Fatalf("consumer got %d exports, groups %q", len(rec.got), rec.groups)
	}

	rec.err = throttled{}
	_, err = client.Export(context.Background(), sampleLogs())
	if st, _ := grpcstatus.FromError(err); st.Code() != codes.ResourceExhausted {
		t.Fatalf("throttled export: %v", err)
	}
}
