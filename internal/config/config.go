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
	XRayUDPAddr  string `yaml:"xray_udp_addr" help:"Address of the X-Ray daemon listener: segments over UDP, and the sampling API over TCP on the same host and port (unauthenticated, as the daemon is; off loopback it needs --insecure). Empty disables it."`
	Insecure     bool   `yaml:"insecure" help:"Allow listening on non-loopback addresses without any API key."`
	PublicURL    string `yaml:"public_url" help:"Base URL at which people and webhook receivers reach this server, for links in notifications and subscription confirmations; empty means http://<http_addr>."`

	ShutdownTimeout Duration `yaml:"shutdown_timeout" help:"How long graceful shutdown waits for in-flight requests."`
	MemoryLimit     Bytes    `yaml:"memory_limit" help:"Soft limit of the process's memory: the Go runtime collects garbage harder as it is approached (as GOMEMLIMIT does); 0 leaves the runtime's default."`

	Log        Log        `yaml:"log"`
	Meta       Meta       `yaml:"meta"`
	Metrics    Metrics    `yaml:"metrics"`
	EventStore EventStore `yaml:"eventstore"`
	Logs       Logs       `yaml:"logs"`
	Traces     Traces     `yaml:"traces"`
	Alarms     Alarms     `yaml:"alarms"`
	Notify     Notify     `yaml:"notify"`
	Limits     Limits     `yaml:"limits"`

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
	RuleFiles     yaml.Node `yaml:"rule_files" help:"Prometheus 'rule_files': globs of alerting and recording rule files, relative to this file, evaluated against the scrape tenant's metrics (file only)."`
	RulesTopic    string    `yaml:"rules_topic" help:"Topic that firing and resolved alerts of the rule files are published to when an alert has no 'topic' label."`

	// Prometheus is the parsed form of the sections above.
	Prometheus *promconfig.Config `yaml:"-"`
}

// EventStore configures the event store that holds logs (and later spans,
// bus events, audit records and alarm history).
type EventStore struct {
	WALFsync           string   `yaml:"wal_fsync" help:"When the write-ahead log is synced to disk: always (before every write is acknowledged; group commit), interval (every wal_fsync_interval; a crash can lose that much) or never (left to the OS)."`
	WALFsyncInterval   Duration `yaml:"wal_fsync_interval" help:"Sync period when wal_fsync is interval."`
	WALSegmentSize     Bytes    `yaml:"wal_segment_size" help:"Size at which a write-ahead log segment is closed and a new one started."`
	HeadMaxBytes       Bytes    `yaml:"head_max_bytes" help:"Memory budget of the in-memory heads of all tenants; reaching it flushes the largest heads to parts."`
	HeadMaxAge         Duration `yaml:"head_max_age" help:"Oldest a head may get before it is flushed to a part."`
	CompactionInterval Duration `yaml:"compaction_interval" help:"How often small parts are merged and retention is applied."`
	QueryTimeout       Duration `yaml:"query_timeout" help:"Maximum time an event query may run; it then returns what it has, flagged partial."`
	QueryMaxBytes      Bytes    `yaml:"query_max_bytes" help:"Most uncompressed bytes one event query may scan before it stops with a partial result."`
	QueryMaxRecords    int64    `yaml:"query_max_records" help:"Most records one event query may scan before it stops with a partial result."`
	QueryMaxRows       int      `yaml:"query_max_rows" help:"Most result rows (or stats groups) one event query may hold in memory; beyond that the result is partial."`
	QueryWorkers       int      `yaml:"query_workers" help:"Parts scanned in parallel by one query; 0 means one per CPU."`
}

// Logs configures the logs pillar: log groups and their ingest.
type Logs struct {
	GroupAttribute  string `yaml:"group_attribute" help:"OTLP resource attribute whose value names the log group of a record (header X-Mirador-Log-Group overrides it)."`
	DefaultGroup    string `yaml:"default_group" help:"Log group of records that carry no group attribute."`
	TailBuffer      int    `yaml:"tail_buffer" help:"Records buffered per live-tail client; a client that falls further behind is told how many it missed."`
	LokiGroupLabels string `yaml:"loki_group_labels" help:"Comma-separated labels of a Loki stream that name its log group, the first present winning; a stream with none goes to default_group."`
}

// Traces configures the traces pillar.
type Traces struct {
	Retention                Duration `yaml:"retention" help:"How long spans are kept; 0 keeps them forever."`
	SpanMetricsInterval      Duration `yaml:"span_metrics_interval" help:"How often span metrics (calls and duration per service, operation, kind and status) are written to the metrics TSDB."`
	SpanMetricsMaxOperations int      `yaml:"span_metrics_max_operations" help:"Most operations (span names) per service with their own span metrics; more fold into span_name=\"other\". 0 means unlimited."`
	XRayTenant               string   `yaml:"xray_tenant" help:"Tenant that X-Ray daemon traffic (UDP segments, sampling over TCP) belongs to; the daemon protocol carries no credentials."`
	XRayRegion               string   `yaml:"xray_region" help:"Region in the ARNs of X-Ray sampling rules."`
	XRayAccountID            string   `yaml:"xray_account_id" help:"Account id in the ARNs of X-Ray sampling rules."`
}

// Alarms configures the alarm evaluator.
type Alarms struct {
	Workers int `yaml:"workers" help:"Alarms evaluated at once in an evaluation round."`
}

// Notify configures notification delivery.
type Notify struct {
	AllowPrivateTargets bool     `yaml:"allow_private_targets" help:"Let webhook and Slack subscriptions reach loopback and private (RFC 1918, RFC 4193) addresses, as a self-hosted receiver usually is; link-local and cloud-metadata addresses are refused either way."`
	Workers             int      `yaml:"workers" help:"Deliveries made at once (each subscription receives one at a time, in order)."`
	SendTimeout         Duration `yaml:"send_timeout" help:"How long one delivery attempt may take before it counts as failed and is retried."`
	PagerDutyURL        string   `yaml:"pagerduty_url" help:"PagerDuty Events API v2 endpoint that pagerduty subscriptions post to."`
	SMTP                SMTP     `yaml:"smtp"`
}

// SMTP configures the mail relay e-mail subscriptions are sent through.
type SMTP struct {
	Addr     string `yaml:"addr" help:"host:port of the SMTP server; empty disables e-mail subscriptions."`
	From     string `yaml:"from" help:"Sender address of notification e-mails."`
	Username string `yaml:"username" help:"SMTP user for PLAIN authentication; empty sends without authenticating."`
	Password string `yaml:"password" help:"SMTP password (prefer the environment variable MIRADOR_NOTIFY_SMTP_PASSWORD)."`
	TLS      string `yaml:"tls" help:"starttls (upgrade, refusing a server that cannot), implicit (TLS from the first byte, usually port 465) or none (a loopback relay only)."`
}

// Limits bound what one tenant may send. Zero means unlimited.
type Limits struct {
	MaxRequestBodyBytes       Bytes   `yaml:"max_request_body_bytes" help:"Largest request body accepted, after decompression."`
	MaxSeries                 int     `yaml:"max_series" help:"Most active series a tenant may have in the metrics head."`
	MaxLabelsPerSeries        int     `yaml:"max_labels_per_series" help:"Most labels one series may have, including __name__."`
	MaxLabelNameLength        int     `yaml:"max_label_name_length" help:"Longest label name accepted, in bytes."`
	MaxLabelValueLength       int     `yaml:"max_label_value_length" help:"Longest label value accepted, in bytes."`
	IngestSamplesPerSecond    float64 `yaml:"ingest_samples_per_second" help:"Sustained samples per second a tenant may ingest."`
	IngestBurstSamples        int     `yaml:"ingest_burst_samples" help:"Samples a tenant may ingest at once above the sustained rate."`
	IngestLogRecordsPerSecond float64 `yaml:"ingest_log_records_per_second" help:"Sustained log records per second a tenant may ingest."`
	IngestBurstLogRecords     int     `yaml:"ingest_burst_log_records" help:"Log records a tenant may ingest at once above the sustained rate."`
	MaxLogRecordBytes         Bytes   `yaml:"max_log_record_bytes" help:"Largest log record accepted (message plus attributes); larger records are rejected one by one."`
	MaxLogGroups              int     `yaml:"max_log_groups" help:"Most log groups a tenant may have."`
	IngestSpansPerSecond      float64 `yaml:"ingest_spans_per_second" help:"Sustained spans per second a tenant may ingest."`
	IngestBurstSpans          int     `yaml:"ingest_burst_spans" help:"Spans a tenant may ingest at once above the sustained rate."`
}

// Default returns the embedded default configuration: everything on
// loopback, data under ./mirador-data.
func Default() *Config {
	return &Config{
		DataDir:         "./mirador-data",
		HTTPAddr:        "127.0.0.1:7070",
		OTLPHTTPAddr:    "127.0.0.1:4318",
		OTLPGRPCAddr:    "127.0.0.1:4317",
		XRayUDPAddr:     "127.0.0.1:2000",
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
			RulesTopic:          "alerts",
		},
		EventStore: EventStore{
			WALFsync:           "always",
			WALFsyncInterval:   Duration(time.Second),
			WALSegmentSize:     64 << 20,
			HeadMaxBytes:       256 << 20,
			HeadMaxAge:         Duration(10 * time.Minute),
			CompactionInterval: Duration(time.Minute),
			QueryTimeout:       Duration(time.Minute),
			QueryMaxBytes:      64 << 30,
			QueryMaxRecords:    1_000_000_000,
			QueryMaxRows:       1_000_000,
		},
		Logs: Logs{
			GroupAttribute:  "service.name",
			DefaultGroup:    "default",
			TailBuffer:      1000,
			LokiGroupLabels: "service_name,job",
		},
		Traces: Traces{
			Retention:                Duration(30 * 24 * time.Hour),
			SpanMetricsInterval:      Duration(15 * time.Second),
			SpanMetricsMaxOperations: 500,
			XRayTenant:               "default",
			XRayRegion:               "us-east-1",
			XRayAccountID:            "000000000000",
		},
		Alarms: Alarms{Workers: 8},
		Notify: Notify{
			AllowPrivateTargets: true,
			Workers:             16,
			SendTimeout:         Duration(15 * time.Second),
			PagerDutyURL:        "https://events.pagerduty.com/v2/enqueue",
			SMTP:                SMTP{TLS: "starttls"},
		},
		Limits: Limits{
			MaxRequestBodyBytes:       64 << 20,
			MaxSeries:                 2_000_000,
			MaxLabelsPerSeries:        40,
			MaxLabelNameLength:        1024,
			MaxLabelValueLength:       4096,
			IngestSamplesPerSecond:    10_000_000,
			IngestBurstSamples:        20_000_000,
			IngestLogRecordsPerSecond: 1_000_000,
			IngestBurstLogRecords:     2_000_000,
			MaxLogRecordBytes:         1 << 20,
			MaxLogGroups:              100_000,
			IngestSpansPerSecond:      1_000_000,
			IngestBurstSpans:          2_000_000,
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
