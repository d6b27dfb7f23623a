package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// recordWithSDK records a counter, a gauge, an explicit-bucket histogram
// and an exponential histogram through the OpenTelemetry SDK and pushes
// them with exp.
func recordWithSDK(t *testing.T, exp sdkmetric.Exporter, service string) {
	t.Helper()
	ctx := context.Background()
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
		sdkmetric.WithResource(resource.NewSchemaless(
			attribute.String("service.name", service),
			attribute.String("service.instance.id", "i-1"),
			attribute.String("cloud.region", "eu-west-1"),
		)),
		sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "payload.size"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}})),
	)
	meter := mp.Meter("mirador-test")
	orders, _ := meter.Int64Counter("shop.orders")
	orders.Add(ctx, 5, metric.WithAttributes(attribute.String("country", "fr")))
	orders.Add(ctx, 7, metric.WithAttributes(attribute.String("country", "fr")))
	temp, _ := meter.Float64Gauge("room.temperature")
	temp.Record(ctx, 21.5)
	latency, _ := meter.Float64Histogram("request.latency", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(1, 5, 10))
	size, _ := meter.Float64Histogram("payload.size", metric.WithUnit("By"))
	for _, v := range []float64{0.5, 2, 7} {
		latency.Record(ctx, v)
		size.Record(ctx, v*100)
	}
	if err := mp.Shutdown(ctx); err != nil { // flushes through the exporter
		t.Fatalf("OTel SDK export: %v", err)
	}
}

func assertSDKMetrics(t *testing.T, c client, service string) {
	t.Helper()
	match := `job="` + service + `",instance="i-1"`
	sel := "{" + match + "}"
	want := map[string]float64{
		`shop_orders_total` + sel:                                            12,
		`room_temperature` + sel:                                             21.5,
		`request_latency_seconds_count` + sel:                                3,
		`request_latency_seconds_sum` + sel:                                  9.5,
		`sum(request_latency_seconds_bucket{le="5",` + match + `})`:          2,
		`histogram_count(payload_size_bytes` + sel + `)`:                     3,
		`histogram_sum(payload_size_bytes` + sel + `)`:                       950,
		`count(target_info{cloud_region="eu-west-1",job="` + service + `"})`: 1,
	}
	for expr, v := range want {
		got := c.query(t, expr)
		if len(got) != 1 {
			t.Errorf("%s: %v, want one series", expr, got)
			continue
		}
		for _, g := range got {
			if math.Abs(g-v) > 1e-9 {
				t.Errorf("%s = %v, want %v", expr, g, v)
			}
		}
	}
}

func TestOTelSDKOverHTTP(t *testing.T) {
	s := testServer(t, "")
	exp, err := otlpmetrichttp.New(context.Background(), otlpmetrichttp.WithEndpoint(s.Addr("otlp_http")), otlpmetrichttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	recordWithSDK(t, exp, "shop-http")
	assertSDKMetrics(t, client{base: httpBase(s)}, "shop-http")
}

func TestOTelSDKOverGRPC(t *testing.T) {
	s := testServer(t, "")
	exp, err := otlpmetricgrpc.New(context.Background(), otlpmetricgrpc.WithEndpoint(s.Addr("otlp_grpc")), otlpmetricgrpc.WithInsecure(),
		otlpmetricgrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	recordWithSDK(t, exp, "shop-grpc")
	assertSDKMetrics(t, client{base: httpBase(s)}, "shop-grpc")
}

func TestOTelSDKToPrometheusOTLPEndpoint(t *testing.T) {
	s := testServer(t, "")
	exp, err := otlpmetrichttp.New(context.Background(), otlpmetrichttp.WithEndpointURL(httpBase(s)+"/prometheus/api/v1/otlp/v1/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	recordWithSDK(t, exp, "shop-main-port")
	assertSDKMetrics(t, client{base: httpBase(s)}, "shop-main-port")
}

// remoteWriteClient is Prometheus's own remote-write client.
func remoteWriteClient(t *testing.T, s *Server, key string, msg remoteapi.WriteMessageType) remote.WriteClient {
	t.Helper()
	u, _ := url.Parse(httpBase(s) + "/prometheus/api/v1/write")
	cfg := &remote.ClientConfig{URL: &config_util.URL{URL: u}, Timeout: model.Duration(10 * time.Second), WriteProtoMsg: msg}
	if key != "" {
		cfg.HTTPClientConfig.Authorization = &config_util.Authorization{Type: "Bearer", Credentials: config_util.Secret(key)}
	}
	c, err := remote.NewWriteClient("test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeRequest(t *testing.T, ts ...prompb.TimeSeries) []byte {
	t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func timeSeries(name string, value float64, at time.Time, kv ...string) prompb.TimeSeries {
	ls := []prompb.Label{{Name: "__name__", Value: name}}
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Timestamp: at.UnixMilli(), Value: value}}}
}

func TestPrometheusRemoteWriteClient(t *testing.T) {
	s := testServer(t, "")
	c := remoteWriteClient(t, s, "", remoteapi.WriteV1MessageType)
	now := time.Now()
	if _, err := c.Store(context.Background(), writeRequest(t,
		timeSeries("node_cpu_seconds_total", 1234.5, now, "cpu", "0", "mode", "idle"),
		timeSeries("node_memory_free_bytes", 8e9, now),
	), 0); err != nil {
		t.Fatal(err)
	}
	got := client{base: httpBase(s)}.query(t, `{__name__=~"node_.*"}`)
	if got[`node_cpu_seconds_total{cpu="0", mode="idle"}`] != 1234.5 || got[`node_memory_free_bytes`] != 8e9 || len(got) != 2 {
		t.Errorf("stored %v", got)
	}
}

func TestPrometheusRemoteWriteClientV2(t *testing.T) {
	s := testServer(t, "")
	c := remoteWriteClient(t, s, "", remoteapi.WriteV2MessageType)
	// The 2.0 client sends whatever bytes it is given; build a 2.0 message.
	now := time.Now()
	raw, err := (&writeV2Request{symbols: []string{"", "__name__", "queue_length", "queue", "mail"}, refs: []uint32{1, 2, 3, 4}, value: 17, ts: now.UnixMilli()}).marshal()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := c.Store(context.Background(), snappy.Encode(nil, raw), 0)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Samples != 1 {
		t.Errorf("server confirmed %d samples written, want 1", stats.Samples)
	}
	if got := (client{base: httpBase(s)}).query(t, "queue_length"); got[`queue_length{queue="mail"}`] != 17 {
		t.Errorf("stored %v", got)
	}
}

func TestRemoteWritePartialRejectionThroughTheServer(t *testing.T) {
	s := testServer(t, "", "--limits.max-label-value-length", "16")
	c := remoteWriteClient(t, s, "", remoteapi.WriteV1MessageType)
	now := time.Now()
	_, err := c.Store(context.Background(), writeRequest(t,
		timeSeries("kept", 1, now),
		timeSeries("dropped", 2, now, "path", strings.Repeat("x", 100)),
	), 0)
	if err == nil || !strings.Contains(err.Error(), "max_label_value_length") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("err = %v, want a 400 naming the limit", err)
	}
	got := client{base: httpBase(s)}.query(t, `{__name__=~"kept|dropped"}`)
	if len(got) != 1 || got["kept"] != 1 {
		t.Errorf("stored %v, want only kept", got)
	}
}

func TestScrapeClientGolangTarget(t *testing.T) {
	jobs := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_jobs_processed_total", Help: "Jobs."})
	temp := prometheus.NewGauge(prometheus.GaugeOpts{Name: "app_temperature_celsius", Help: "Temp."})
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "app_latency_seconds", Help: "Latency.", Buckets: []float64{0.1, 1, 10}})
	sum := prometheus.NewSummary(prometheus.SummaryOpts{Name: "app_payload_bytes", Help: "Payload.", Objectives: map[float64]float64{0.5: 0.01}})
	jobs.Add(42)
	temp.Set(-3.5)
	for _, v := range []float64{0.05, 0.5, 5} {
		lat.Observe(v)
	}
	for _, v := range []float64{100, 200, 300} {
		sum.Observe(v)
	}
	target := scrapeTarget(t, jobs, temp, lat, sum)

	s := testServer(t, `
metrics:
  scrape_configs:
    - job_name: app
      scrape_interval: 1s
      scrape_timeout: 1s
      static_configs:
        - targets: ["`+target+`"]
          labels: {team: payments}
`)
	c := client{base: httpBase(s)}
	eventually(t, 20*time.Second, "the first scrape", func() bool {
		return c.query(t, `up{job="app"}`)[`up{instance="`+target+`", job="app", team="payments"}`] == 1
	})
	for expr, want := range map[string]float64{
		`app_jobs_processed_total`:             42,
		`app_temperature_celsius`:              -3.5,
		`app_latency_seconds_count`:            3,
		`app_latency_seconds_sum`:              5.55,
		`app_latency_seconds_bucket{le="1.0"}`: 2,
		`app_payload_bytes{quantile="0.5"}`:    200,
		`app_payload_bytes_sum`:                600,
	} {
		got := c.query(t, expr)
		if len(got) != 1 {
			t.Errorf("%s: %v", expr, got)
			continue
		}
		for _, v := range got {
			if math.Abs(v-want) > 1e-9 {
				t.Errorf("%s = %v, want %v", expr, v, want)
			}
		}
	}
	status, body := c.get(t, "/prometheus/api/v1/targets", nil)
	if status != http.StatusOK || !contains(body, `"health":"up"`) || !contains(body, `"scrapePool":"app"`) {
		t.Errorf("targets: %d %s", status, body)
	}
}

func TestSelfScrape(t *testing.T) {
	s := testServer(t, "", "--metrics.self-scrape-interval", "1s")
	c := client{base: httpBase(s)}
	eventually(t, 20*time.Second, "Mirador scraping itself", func() bool {
		return c.query(t, `up{job="mirador"}`)[`up{instance="`+s.Addr("http")+`", job="mirador"}`] == 1
	})
	eventually(t, 20*time.Second, "self-metrics", func() bool { return len(c.query(t, `mirador_build_info{job="mirador"}`)) == 1 })
}

func TestScrapeWithFileServiceDiscovery(t *testing.T) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "discovered_gauge", Help: "A gauge."})
	g.Set(7)
	target := scrapeTarget(t, g)

	dir := t.TempDir()
	sd := dir + "/targets.json"
	if err := os.WriteFile(sd, []byte(`[{"targets":["`+target+`"],"labels":{"env":"test"}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, `
metrics:
  scrape_configs:
    - job_name: files
      scrape_interval: 1s
      scrape_timeout: 1s
      file_sd_configs:
        - files: ["`+sd+`"]
`)
	c := client{base: httpBase(s)}
	eventually(t, 20*time.Second, "a target found through file SD", func() bool {
		return c.query(t, `discovered_gauge{job="files",env="test"}`)[`discovered_gauge{env="test", instance="`+target+`", job="files"}`] == 7
	})
	status, body := c.get(t, "/prometheus/api/v1/metadata", url.Values{"metric": {"discovered_gauge"}})
	if status != 200 || !contains(body, `"type":"gauge"`) || !contains(body, `"help":"A gauge."`) {
		t.Errorf("metadata: %d %s", status, body)
	}
}

func TestExemplarsFromRemoteWrite(t *testing.T) {
	s := testServer(t, "")
	now := time.Now()
	ts := timeSeries("checkout_requests_total", 3, now)
	ts.Exemplars = []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "4bf92f3577b34da6a3ce929d0e0e4736"}}, Value: 1, Timestamp: now.UnixMilli()}}
	if _, err := remoteWriteClient(t, s, "", remoteapi.WriteV1MessageType).Store(context.Background(), writeRequest(t, ts), 0); err != nil {
		t.Fatal(err)
	}
	status, body := (client{base: httpBase(s)}).get(t, "/prometheus/api/v1/query_exemplars", url.Values{
		"query": {"checkout_requests_total"}, "start": {fmt.Sprint(now.Add(-time.Minute).Unix())}, "end": {fmt.Sprint(now.Add(time.Minute).Unix())},
	})
	if status != 200 || !contains(body, "4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("query_exemplars: %d %s", status, body)
	}
}
