package config

import (
	"time"

	promconfig "github.com/prometheus/prometheus/config"
	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of a Mirador server.
//
// Struct tags drive loading: `yaml` is the key in the file (and, joined with
// dots, the field's path), `help` documents it. A field's flag is its path
// with '_' turned into '-' (metrics.retention_time → --metrics.retention-time)
// and its environment variable is MIRADOR_ plus the path in upper case with
// '.' turned into '_' (MIRADOR_METRICS_RETENTION_TIME).
type Config struct {
	DataDir      string `yaml:"data_dir" help:"Directory for all data (metrics TSDB, meta store)."`
	HTTPAddr     string `yaml:"http_addr" help:"Address of the main HTTP listener (APIs, UI, /metrics). ':0' picks a free port."`
	OTLPHTTPAddr string `yaml:"otlp_http_addr" help:"Address of the OTLP/HTTP listener; empty disables it."`
	OTLPGRPCAddr string `yaml:"otlp_grpc_addr" help:"Address of the OTLP/gRPC listener; empty disables it."`
	Insecure     bool   `yaml:"insecure" help:"Allow listening on non-loopback addresses without any API key."`

	ShutdownTimeout Duration `yaml:"shutdown_timeout" help:"How long graceful shutdown waits for in-flight requests."`

	Log     Log     `yaml:"log"`
	Meta    Meta    `yaml:"meta"`
	Metrics Metrics `yaml:"metrics"`
	Limits  Limits  `yaml:"limits"`

	// TenantLimits overrides Limits for named tenants; fields a tenant's
	// entry leaves out keep the values of Limits.
	TenantLimits map[string]Limits `yaml:"tenant_limits" help:"Per-tenant overrides of limits (file only)."`

	// File is the configuration file that was loaded, if any.
	File string `yaml:"-"`
}

// Log configures Mirador's own logging.
type Log struct {
	Level  string `yaml:"level" help:"Minimum level logged: debug, info, warn or error."`
	Format string `yaml:"format" help:"Log line format: logfmt or json."`
}

// Meta configures the SQL meta store (tenants, keys, control-plane state).
type Meta struct {
	Driver string `yaml:"driver" help:"Meta store driver: sqlite."`
	DSN    string `yaml:"dsn" help:"Meta store location; for sqlite a file path (default <data_dir>/meta.db)."`
}

// Metrics configures the metrics engine (Prometheus TSDB and PromQL).
type Metrics struct {
	RetentionTime       Duration `yaml:"retention_time" help:"How long samples are kept."`
	RetentionSize       Bytes    `yaml:"retention_size" help:"Maximum TSDB size per tenant before the oldest blocks are deleted; 0 means no size limit."`
	OutOfOrderWindow    Duration `yaml:"out_of_order_window" help:"How far behind the newest sample an out-of-order sample is still accepted; 0 refuses them."`
	FloatChunkEncoding  string   `yaml:"float_chunk_encoding" help:"Chunk encoding of float samples: xor (readable by every Prometheus tool) or xor2 (Prometheus 3.15+, smaller when values often repeat)."`
	QueryTimeout        Duration `yaml:"query_timeout" help:"Maximum time a PromQL query may run."`
	QueryMaxSamples     int      `yaml:"query_max_samples" help:"Maximum samples a single PromQL query may load into memory."`
	QueryMaxConcurrency int      `yaml:"query_max_concurrency" help:"Maximum PromQL queries evaluated at once; others wait."`
	LookbackDelta       Duration `yaml:"lookback_delta" help:"How far back PromQL looks for the latest sample of a series."`
	ScrapeTenant        string   `yaml:"scrape_tenant" help:"Tenant that scraped samples (including self-scrape) are stored under."`
	SelfScrapeInterval  Duration `yaml:"self_scrape_interval" help:"Interval at which Mirador scrapes its own /metrics (job 'mirador'); 0 disables."`

	// The Prometheus-format sections, kept as YAML and parsed by Prometheus's
	// own loader into Prometheus.
	Global        yaml.Node `yaml:"global" help:"Prometheus 'global' section (scrape_interval, external_labels, ...) (file only)."`
	ScrapeConfigs yaml.Node `yaml:"scrape_configs" help:"Prometheus 'scrape_configs' section, static and file service discovery (file only)."`
	OTLP          yaml.Node `yaml:"otlp" help:"Prometheus 'otlp' section (promote_resource_attributes, translation_strategy, ...) (file only)."`

	// Prometheus is the parsed form of the sections above.
	Prometheus *promconfig.Config `yaml:"-"`
}

// Limits bound what one tenant may send. Zero means unlimited.
type Limits struct {
	MaxRequestBodyBytes    Bytes   `yaml:"max_request_body_bytes" help:"Largest request body accepted, after decompression."`
	MaxSeries              int     `yaml:"max_series" help:"Most active series a tenant may have in the metrics head."`
	MaxLabelsPerSeries     int     `yaml:"max_labels_per_series" help:"Most labels one series may have, including __name__."`
	MaxLabelNameLength     int     `yaml:"max_label_name_length" help:"Longest label name accepted, in bytes."`
	MaxLabelValueLength    int     `yaml:"max_label_value_length" help:"Longest label value accepted, in bytes."`
	IngestSamplesPerSecond float64 `yaml:"ingest_samples_per_second" help:"Sustained samples per second a tenant may ingest."`
	IngestBurstSamples     int     `yaml:"ingest_burst_samples" help:"Samples a tenant may ingest at once above the sustained rate."`
}

// Default returns the embedded default configuration: everything on
// loopback, data under ./mirador-data.
func Default() *Config {
	return &Config{
		DataDir:         "./mirador-data",
		HTTPAddr:        "127.0.0.1:7070",
		OTLPHTTPAddr:    "127.0.0.1:4318",
		OTLPGRPCAddr:    "127.0.0.1:4317",
		ShutdownTimeout: Duration(30 * time.Second),
		Log:             Log{Level: "info", Format: "logfmt"},
		Meta:            Meta{Driver: "sqlite"},
		Metrics: Metrics{
			RetentionTime:       Duration(15 * 24 * time.Hour),
			FloatChunkEncoding:  "xor",
			QueryTimeout:        Duration(2 * time.Minute),
			QueryMaxSamples:     50_000_000,
			QueryMaxConcurrency: 20,
			LookbackDelta:       Duration(5 * time.Minute),
			ScrapeTenant:        "default",
			SelfScrapeInterval:  Duration(15 * time.Second),
		},
		Limits: Limits{
			MaxRequestBodyBytes:    64 << 20,
			MaxSeries:              2_000_000,
			MaxLabelsPerSeries:     40,
			MaxLabelNameLength:     1024,
			MaxLabelValueLength:    4096,
			IngestSamplesPerSecond: 10_000_000,
			IngestBurstSamples:     20_000_000,
		},
	}
}

// LimitsFor returns the limits that apply to tenant.
func (c *Config) LimitsFor(tenant string) Limits {
	if l, ok := c.TenantLimits[tenant]; ok {
		return l
	}
	return c.Limits
}
