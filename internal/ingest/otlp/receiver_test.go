package otlp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// recorder is the consumer at the receiver's boundary: it records what it
// was given and answers as told.
type recorder struct {
	got    []pmetric.Metrics
	result Result
	err    error
}

func (r *recorder) ConsumeMetrics(_ context.Context, md pmetric.Metrics) (Result, error) {
	r.got = append(r.got, md)
	return r.result, r.err
}

func sampleRequest() pmetricotlp.ExportRequest {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("g")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(3)
	return pmetricotlp.NewExportRequestFromMetrics(md)
}

func post(h http.Handler, contentType, encoding string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/v1/metrics", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	if encoding != "" {
		r.Header.Set("Content-Encoding", encoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func TestHTTPProtobufJSONAndGzip(t *testing.T) {
	pb, _ := sampleRequest().MarshalProto()
	js, _ := sampleRequest().MarshalJSON()
	for _, c := range []struct {
		name, contentType, encoding string
		body                        []byte
	}{
		{"protobuf", "application/x-protobuf", "", pb},
		{"json", "application/json", "", js},
		{"json with charset", "application/json; charset=utf-8", "", js},
		{"gzip protobuf", "application/x-protobuf", "gzip", gzipped(pb)},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			w := post(NewReceiver(Options{Metrics: rec}).Handler(), c.contentType, c.encoding, c.body)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if len(rec.got) != 1 || rec.got[0].DataPointCount() != 1 {
				t.Fatalf("consumer got %v", rec.got)
			}
			resp := pmetricotlp.NewExportResponse()
			var err error
			if strings.HasPrefix(c.contentType, "application/json") {
				err = resp.UnmarshalJSON(w.Body.Bytes())
			} else {
				err = resp.UnmarshalProto(w.Body.Bytes())
			}
			if err != nil {
				t.Fatalf("response is not an ExportMetricsServiceResponse: %v", err)
			}
		})
	}
}

func TestHTTPPartialSuccessIsReported(t *testing.T) {
	rec := &recorder{result: Result{Rejected: 2, Message: "2 out_of_order"}}
	pb, _ := sampleRequest().MarshalProto()
	w := post(NewReceiver(Options{Metrics: rec}).Handler(), "application/x-protobuf", "", pb)
	resp := pmetricotlp.NewExportResponse()
	if err := resp.UnmarshalProto(w.Body.Bytes()); err != nil || w.Code != 200 {
		t.Fatalf("status %d, %v", w.Code, err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedDataPoints() != 2 || ps.ErrorMessage() != "2 out_of_order" {
		t.Errorf("partial success = %d %q", ps.RejectedDataPoints(), ps.ErrorMessage())
	}
}

type throttled struct{}

func (throttled) Error() string             { return "over the rate" }
func (throttled) StatusCode() int           { return http.StatusTooManyRequests }
func (throttled) RetryDelay() time.Duration { return 1500 * time.Millisecond }

func TestHTTPErrorsAreStatusBodiesInTheRequestEncoding(t *testing.T) {
	pb, _ := sampleRequest().MarshalProto()
	for _, c := range []struct {
		name, contentType, encoding string
		body                        []byte
		consumerErr                 error
		limit                       int64
		status                      int
		want                        string
	}{
		{name: "garbage protobuf", contentType: "application/x-protobuf", body: []byte{0xff, 0xff}, status: 400, want: "decode OTLP metrics"},
		{name: "garbage json", contentType: "application/json", body: []byte("{"), status: 400, want: "decode OTLP metrics"},
		{name: "content type", contentType: "text/plain", body: pb, status: 415, want: "application/x-protobuf or application/json"},
		{name: "encoding", contentType: "application/x-protobuf", encoding: "br", body: pb, status: 415, want: "gzip"},
		{name: "bad gzip", contentType: "application/x-protobuf", encoding: "gzip", body: pb, status: 400, want: "gzip"},
		{name: "too large", contentType: "application/x-protobuf", body: pb, limit: 5, status: 413, want: "max_request_body_bytes"},
		{name: "gzip bomb", contentType: "application/x-protobuf", encoding: "gzip", body: gzipped(make([]byte, 1<<20)), limit: 1000, status: 413, want: "after decompression"},
		{name: "throttled", contentType: "application/json", body: []byte("{}"), consumerErr: throttled{}, status: 429, want: "over the rate"},
		{name: "unavailable", contentType: "application/x-protobuf", body: pb, consumerErr: ErrUnavailable, status: 503, want: "unavailable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{err: c.consumerErr}
			r := NewReceiver(Options{Metrics: rec, BodyLimit: func(context.Context) int64 { return c.limit }})
			w := post(r.Handler(), c.contentType, c.encoding, c.body)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			var st status.Status
			var err error
			if strings.HasPrefix(c.contentType, "application/json") {
				err = protojson.Unmarshal(w.Body.Bytes(), &st)
			} else {
				err = proto.Unmarshal(w.Body.Bytes(), &st)
			}
			if err != nil || !strings.Contains(st.Message, c.want) {
				t.Fatalf("body %q (%v) is not a Status mentioning %q", w.Body, err, c.want)
			}
			if c.status == 429 && w.Header().Get("Retry-After") != "2" {
				t.Errorf("Retry-After = %q, want 2 (1.5s rounded up)", w.Header().Get("Retry-After"))
			}
		})
	}
}

func TestHTTPSignalsWithoutConsumerAnswer404(t *testing.T) {
	r := NewReceiver(Options{Metrics: &recorder{}})
	for path, mention := range map[string]string{"/v1/logs": "does not accept OTLP logs", "/v1/traces": "does not accept OTLP traces"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.Handler().ServeHTTP(w, req)
		if w.Code != 404 || !strings.Contains(w.Body.String(), mention) {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/metrics", nil)
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
}

func TestGRPCExport(t *testing.T) {
	rec := &recorder{}
	s := grpc.NewServer()
	NewReceiver(Options{Metrics: rec}).RegisterGRPC(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	defer s.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pmetricotlp.NewGRPCClient(conn)

	rec.result = Result{Rejected: 1, Message: "1 invalid_labels"}
	resp, err := client.Export(context.Background(), sampleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if resp.PartialSuccess().RejectedDataPoints() != 1 || len(rec.got) != 1 {
		t.Errorf("partial success %d, consumer calls %d", resp.PartialSuccess().RejectedDataPoints(), len(rec.got))
	}

	rec.err = throttled{}
	_, err = client.Export(context.Background(), sampleRequest())
	st := grpcstatus.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("code %v, want ResourceExhausted", st.Code())
	}
	var info *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			info = ri
		}
	}
	if info == nil || info.RetryDelay.AsDuration() != 1500*time.Millisecond {
		t.Errorf("RetryInfo = %v, want 1.5s (OTLP clients retry RESOURCE_EXHAUSTED only with it)", info)
	}

	rec.err = errors.New("disk on fire")
	if _, err := client.Export(context.Background(), sampleRequest()); grpcstatus.Code(err) != codes.Internal {
		t.Errorf("storage failure code %v", grpcstatus.Code(err))
	}
}

func FuzzOTLPMetricsHTTP(f *testing.F) {
	pb, _ := sampleRequest().MarshalProto()
	js, _ := sampleRequest().MarshalJSON()
	f.Add(pb, false)
	f.Add(js, true)
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","sum":{"dataPoints":[{"asInt":"5"}]}}]}]}]}`), true)
	r := NewReceiver(Options{Metrics: MetricsConsumerFunc(func(_ context.Context, md pmetric.Metrics) (Result, error) {
		_ = md.DataPointCount() // walk what was decoded
		return Result{}, nil
	}), BodyLimit: func(context.Context) int64 { return 1 << 20 }})
	h := r.Handler()
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		ct := "application/x-protobuf"
		if isJSON {
			ct = "application/json"
		}
		w := post(h, ct, "", body)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d for undecodable input: %s", w.Code, w.Body)
		}
	})
}
