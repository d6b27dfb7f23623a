package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/tenant"
)

// Validate checks every value and reports all invalid ones at once, each
// naming the field, the value and what would be valid.
var lokiLabel = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (c *Config) Validate() error {
	var errs []error
	bad := func(path string, value any, want string) {
		errs = append(errs, fmt.Errorf("%s: %v %s", path, fmtValue(value), want))
	}

	if c.DataDir == "" {
		bad("data_dir", c.DataDir, "must name a directory")
	}
	checkAddr := func(path, addr string, optional bool) {
		if addr == "" && optional {
			return
		}
		if err := validateAddr(addr); err != nil {
			bad(path, addr, err.Error())
		}
	}
	checkAddr("http_addr", c.HTTPAddr, false)
	checkAddr("otlp_http_addr", c.OTLPHTTPAddr, true)
	checkAddr("otlp_grpc_addr", c.OTLPGRPCAddr, true)
	checkAddr("xray_udp_addr", c.XRayUDPAddr, true)
	checkAddr("notify.smtp.addr", c.Notify.SMTP.Addr, true)
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public_url", c.PublicURL, "must be an http or https URL such as https://mirador.example.com")
		}
	}
	switch c.Notify.SMTP.TLS {
	case "starttls", "implicit", "none":
	default:
		bad("notify.smtp.tls", c.Notify.SMTP.TLS, "must be starttls, implicit or none")
	}
	if c.Notify.SMTP.Addr != "" && c.Notify.SMTP.From == "" {
		bad("notify.smtp.from", c.Notify.SMTP.From, "must be set when notify.smtp.addr is (the sender address of notification e-mails)")
	}
	for _, l := range strings.Split(c.Logs.LokiGroupLabels, ",") {
		if !lokiLabel.MatchString(strings.TrimSpace(l)) {
			bad("logs.loki_group_labels", c.Logs.LokiGroupLabels, "must be comma-separated label names such as service_name,job")
			break
		}
	}
	if c.Notify.Workers < 1 {
		bad("notify.workers", c.Notify.Workers, "must be at least 1")
	}
	if c.Alarms.Workers < 1 {
		bad("alarms.workers", c.Alarms.Workers, "must be at least 1")
	}
	if c.Notify.SendTimeout <= 0 {
		bad("notify.send_timeout", c.Notify.SendTimeout, "must be positive")
	}
	seen := map[string]string{}
	// The X-Ray address is TCP too (the sampling API), so it must not share
	// a port with the others.
	for _, a := range []struct{ path, addr string }{{"http_addr", c.HTTPAddr}, {"otlp_http_addr", c.OTLPHTTPAddr}, {"otlp_grpc_addr", c.OTLPGRPCAddr}, {"xray_udp_addr", c.XRayUDPAddr}} {
		if _, port, err := net.SplitHostPort(a.addr); err != nil || port == "0" {
			continue
		}
		if other, ok := seen[a.addr]; ok {
			bad(a.path, a.addr, "is already used by "+other+"; give each listener its own port")
		}
		seen[a.addr] = a.path
	}
	if c.MemoryLimit < 0 {
		bad("memory_limit", c.MemoryLimit, "must not be negative (0 leaves the Go runtime's default)")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", c.ShutdownTimeout, "must be greater than zero (e.g. 30s)")
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", c.Log.Level, "is not a level (use debug, info, warn or error)")
	}
	switch c.Log.Format {
	case "logfmt", "json":
	default:
		bad("log.format", c.Log.Format, "is not a format (use logfmt or json)")
	}
	if c.Meta.Driver != "sqlite" {
		bad("meta.driver", c.Meta.Driver, "is not a supported driver (use sqlite)")
	}

	m := c.Metrics
	positive := func(path string, ok bool, v any, example string) {
		if !ok {
			bad(path, v, "must be greater than zero (e.g. "+example+")")
		}
	}
	positive("metrics.retention_time", m.RetentionTime > 0, m.RetentionTime, "15d")
	positive("metrics.query_timeout", m.QueryTimeout > 0, m.QueryTimeout, "2m")
	positive("metrics.lookback_delta", m.LookbackDelta > 0, m.LookbackDelta, "5m")
	positive("metrics.query_max_samples", m.QueryMaxSamples > 0, m.QueryMaxSamples, "50000000")
	positive("metrics.query_max_concurrency", m.QueryMaxConcurrency > 0, m.QueryMaxConcurrency, "20")
	if m.RetentionSize < 0 {
		bad("metrics.retention_size", m.RetentionSize, "must not be negative (0 means no size limit)")
	}
	if m.OutOfOrderWindow < 0 {
		bad("metrics.out_of_order_window", m.OutOfOrderWindow, "must not be negative (0 refuses out-of-order samples)")
	}
	if m.SelfScrapeInterval < 0 {
		bad("metrics.self_scrape_interval", m.SelfScrapeInterval, "must not be negative (0 disables self-scrape)")
	}
	if m.FloatChunkEncoding != "xor" && m.FloatChunkEncoding != "xor2" {
		bad("metrics.float_chunk_encoding", m.FloatChunkEncoding, "is not an encoding (use xor2 or xor)")
	}
	if err := tenant.Validate(m.ScrapeTenant); err != nil {
		bad("metrics.scrape_tenant", m.ScrapeTenant, "is not a tenant id: "+err.Error())
	}

	e := c.EventStore
	switch e.WALFsync {
	case "always", "interval", "never":
	default:
		bad("eventstore.wal_fsync", e.WALFsync, "is not a policy (use always, interval or never)")
	}
	if e.WALFsync == "interval" {
		positive("eventstore.wal_fsync_interval", e.WALFsyncInterval > 0, e.WALFsyncInterval, "1s")
	}
	positive("eventstore.wal_segment_size", e.WALSegmentSize >= 1<<20, e.WALSegmentSize, "64MiB; at least 1MiB")
	positive("eventstore.head_max_bytes", e.HeadMaxBytes >= 1<<20, e.HeadMaxBytes, "256MiB; at least 1MiB")
	positive("eventstore.head_max_age", e.HeadMaxAge > 0, e.HeadMaxAge, "10m")
	positive("eventstore.compaction_interval", e.CompactionInterval > 0, e.CompactionInterval, "1m")
	positive("eventstore.query_timeout", e.QueryTimeout > 0, e.QueryTimeout, "1m")
	positive("eventstore.query_max_bytes", e.QueryMaxBytes > 0, e.QueryMaxBytes, "64GiB")
	positive("eventstore.query_max_records", e.QueryMaxRecords > 0, e.QueryMaxRecords, "1000000000")
	positive("eventstore.query_max_rows", e.QueryMaxRows > 0, e.QueryMaxRows, "1000000")
	if e.QueryWorkers < 0 {
		bad("eventstore.query_workers", e.QueryWorkers, "must not be negative (0 means one per CPU)")
	}
	if c.Logs.GroupAttribute == "" {
		bad("logs.group_attribute", c.Logs.GroupAttribute, "must name a resource attribute (e.g. service.name)")
	}
	if c.Logs.DefaultGroup == "" {
		bad("logs.default_group", c.Logs.DefaultGroup, "must name a log group (e.g. default)")
	}
	positive("logs.tail_buffer", c.Logs.TailBuffer > 0, c.Logs.TailBuffer, "1000")
	if c.Traces.Retention < 0 {
		bad("traces.retention", c.Traces.Retention, "must not be negative (0 keeps spans forever)")
	}
	positive("traces.span_metrics_interval", c.Traces.SpanMetricsInterval >= Duration(time.Second), c.Traces.SpanMetricsInterval, "15s; at least 1s")
	if c.Traces.SpanMetricsMaxOperations < 0 {
		bad("traces.span_metrics_max_operations", c.Traces.SpanMetricsMaxOperations, "must not be negative (0 means unlimited)")
	}
	if err := tenant.Validate(c.Traces.XRayTenant); err != nil {
		bad("traces.xray_tenant", c.Traces.XRayTenant, "is not a tenant id: "+err.Error())
	}
	if c.Traces.XRayRegion == "" {
		bad("traces.xray_region", c.Traces.XRayRegion, "must name a region (e.g. us-east-1)")
	}
	if len(c.Traces.XRayAccountID) != 12 || strings.Trim(c.Traces.XRayAccountID, "0123456789") != "" {
		bad("traces.xray_account_id", c.Traces.XRayAccountID, "must be 12 digits (e.g. 000000000000)")
	}

	errs = append(errs, c.Limits.validate("limits")...)
	for name, l := range c.TenantLimits {
		if err := tenant.Validate(name); err != nil {
			bad("tenant_limits."+name, name, "is not a tenant id: "+err.Error())
		}
		errs = append(errs, l.validate("tenant_limits."+name)...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return nil
}

func (l Limits) validate(prefix string) []error {
	var errs []error
	nonNegative := func(name string, ok bool, v any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s.%s: %v must not be negative (0 means unlimited)", prefix, name, fmtValue(v)))
		}
	}
	nonNegative("max_request_body_bytes", l.MaxRequestBodyBytes >= 0, l.MaxRequestBodyBytes)
	nonNegative("max_series", l.MaxSeries >= 0, l.MaxSeries)
	nonNegative("max_labels_per_series", l.MaxLabelsPerSeries >= 0, l.MaxLabelsPerSeries)
	nonNegative("max_label_name_length", l.MaxLabelNameLength >= 0, l.MaxLabelNameLength)
	nonNegative("max_label_value_length", l.MaxLabelValueLength >= 0, l.MaxLabelValueLength)
	nonNegative("ingest_samples_per_second", l.IngestSamplesPerSecond >= 0, l.IngestSamplesPerSecond)
	nonNegative("ingest_burst_samples", l.IngestBurstSamples >= 0, l.IngestBurstSamples)
	nonNegative("ingest_log_records_per_second", l.IngestLogRecordsPerSecond >= 0, l.IngestLogRecordsPerSecond)
	nonNegative("ingest_burst_log_records", l.IngestBurstLogRecords >= 0, l.IngestBurstLogRecords)
	nonNegative("max_log_record_bytes", l.MaxLogRecordBytes >= 0, l.MaxLogRecordBytes)
	nonNegative("max_log_groups", l.MaxLogGroups >= 0, l.MaxLogGroups)
	nonNegative("ingest_spans_per_second", l.IngestSpansPerSecond >= 0, l.IngestSpansPerSecond)
	nonNegative("ingest_burst_spans", l.IngestBurstSpans >= 0, l.IngestBurstSpans)
	if l.IngestSpansPerSecond > 0 && l.IngestBurstSpans == 0 {
		errs = append(errs, fmt.Errorf("%s.ingest_burst_spans: 0 must be at least 1 when ingest_spans_per_second is set (e.g. twice the rate)", prefix))
	}
	if l.IngestLogRecordsPerSecond > 0 && l.IngestBurstLogRecords == 0 {
		errs = append(errs, fmt.Errorf("%s.ingest_burst_log_records: 0 must be at least 1 when ingest_log_records_per_second is set (e.g. twice the rate)", prefix))
	}
	if l.IngestSamplesPerSecond > 0 && l.IngestBurstSamples == 0 {
		errs = append(errs, fmt.Errorf("%s.ingest_burst_samples: 0 must be at least 1 when ingest_samples_per_second is set (e.g. twice the rate)", prefix))
	}
	return errs
}

func validateAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not a host:port address (e.g. 127.0.0.1:7070, or :0 for any free port)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("has an invalid port (use 0 to 65535)")
	}
	return nil
}

func fmtValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q", fmt.Sprint(v))
}
