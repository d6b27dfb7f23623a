package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/discovery/file"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mirador.yml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := Load(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:7070" || cfg.OTLPHTTPAddr != "127.0.0.1:4318" || cfg.OTLPGRPCAddr != "127.0.0.1:4317" {
		t.Errorf("default addresses = %s %s %s", cfg.HTTPAddr, cfg.OTLPHTTPAddr, cfg.OTLPGRPCAddr)
	}
	if cfg.DataDir != "./mirador-data" {
		t.Errorf("default data dir = %q", cfg.DataDir)
	}
	if cfg.Metrics.Prometheus == nil {
		t.Error("Prometheus config not parsed for defaults")
	}
}

func TestPrecedenceFlagsOverEnvOverFileOverDefaults(t *testing.T) {
	file := writeFile(t, `
http_addr: 127.0.0.1:1001
otlp_http_addr: 127.0.0.1:1002
otlp_grpc_addr: 127.0.0.1:1003
metrics:
  retention_time: 3d
`)
	env := []string{"MIRADOR_OTLP_HTTP_ADDR=127.0.0.1:2002", "MIRADOR_OTLP_GRPC_ADDR=127.0.0.1:2003", "PATH=/bin"}
	args := []string{"--config", file, "--otlp-grpc-addr=127.0.0.1:3003", "--insecure"}
	cfg, err := Load(args, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"file", cfg.HTTPAddr, "127.0.0.1:1001"},
		{"env over file", cfg.OTLPHTTPAddr, "127.0.0.1:2002"},
		{"flag over env", cfg.OTLPGRPCAddr, "127.0.0.1:3003"},
		{"default", cfg.Log.Level, "info"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
	}
	if cfg.Metrics.RetentionTime.Std() != 72*time.Hour || !cfg.Insecure {
		t.Errorf("retention %v insecure %v", cfg.Metrics.RetentionTime, cfg.Insecure)
	}
}

func TestConfigFileFromEnvironment(t *testing.T) {
	file := writeFile(t, "log:\n  level: debug\n")
	cfg, err := Load(nil, []string{"MIRADOR_CONFIG=" + file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "debug" || cfg.File != file {
		t.Errorf("level %q file %q", cfg.Log.Level, cfg.File)
	}
}

func TestInvalidValuesNameFieldValueAndRemedy(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  []string
		file string
		want []string
	}{
		{name: "flag duration", args: []string{"--metrics.query-timeout=soon"}, want: []string{"--metrics.query-timeout", `"soon"`, "not a duration"}},
		{name: "env number", env: []string{"MIRADOR_LIMITS_MAX_SERIES=lots"}, want: []string{"MIRADOR_LIMITS_MAX_SERIES", "limits.max_series", `"lots"`, "whole number"}},
		{name: "file size", file: "metrics:\n  retention_size: huge\n", want: []string{"line 2", "metrics.retention_size", `"huge"`, "64MiB"}},
		{name: "unknown key", file: "metrics:\n  retenton_time: 1d\n", want: []string{"metrics.retenton_time", "unknown setting", "retention_time"}},
		{name: "bad level", args: []string{"--log.level=loud"}, want: []string{"log.level", `"loud"`, "debug, info, warn or error"}},
		{name: "bad address", args: []string{"--http-addr=localhost"}, want: []string{"http_addr", `"localhost"`, "host:port"}},
		{name: "shared port", args: []string{"--otlp-http-addr=127.0.0.1:7070"}, want: []string{"otlp_http_addr", "already used by http_addr"}},
		{name: "zero timeout", args: []string{"--metrics.query-timeout=0s"}, want: []string{"metrics.query_timeout", "greater than zero"}},
		{name: "negative limit", args: []string{"--limits.max-series=-1"}, want: []string{"limits.max_series", `"-1"`, "must not be negative"}},
		{name: "bad tenant", args: []string{"--metrics.scrape-tenant=Ops Team"}, want: []string{"metrics.scrape_tenant", `"Ops Team"`}},
		{name: "bad driver", args: []string{"--meta.driver=oracle"}, want: []string{"meta.driver", `"oracle"`, "sqlite"}},
		{name: "scrape config", file: "metrics:\n  scrape_configs:\n    - job_name: x\n      scrape_intervall: 5s\n", want: []string{"metrics", "scrape_intervall"}},
		{name: "unknown flag", args: []string{"--http-adr=:0"}, want: []string{"http-adr", "mirador server --help"}},
		{name: "stray argument", args: []string{"serve"}, want: []string{`"serve"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", writeFile(t, c.file)}, args...)
			}
			_, err := Load(args, c.env, nil)
			if err == nil {
				t.Fatal("Load accepted invalid configuration")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAllInvalidValuesReportedAtOnce(t *testing.T) {
	_, err := Load([]string{"--log.level=x", "--log.format=y"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "log.level") || !strings.Contains(err.Error(), "log.format") {
		t.Fatalf("want both fields reported, got %v", err)
	}
}

func TestTenantLimitsInheritFinalDefaults(t *testing.T) {
	file := writeFile(t, `
limits:
  max_series: 500
tenant_limits:
  acme:
    max_labels_per_series: 7
`)
	cfg, err := Load([]string{"--config", file, "--limits.max-label-value-length=99"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	acme := cfg.LimitsFor("acme")
	if acme.MaxLabelsPerSeries != 7 || acme.MaxSeries != 500 || acme.MaxLabelValueLength != 99 {
		t.Errorf("acme limits = %+v; want override 7, inherited 500 and 99", acme)
	}
	if other := cfg.LimitsFor("other"); other.MaxLabelsPerSeries != Default().Limits.MaxLabelsPerSeries {
		t.Errorf("other tenant got %d labels", other.MaxLabelsPerSeries)
	}
}

func TestScrapeConfigsParsedByPrometheus(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mirador.yml")
	text := `
metrics:
  global:
    scrape_interval: 7s
  scrape_configs:
    - job_name: node
      static_configs:
        - targets: ["127.0.0.1:9100"]
    - job_name: files
      file_sd_configs:
        - files: ["targets/*.json"]
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"--config", path}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := cfg.Metrics.Prometheus
	if len(pc.ScrapeConfigs) != 2 || pc.ScrapeConfigs[0].JobName != "node" {
		t.Fatalf("scrape configs = %+v", pc.ScrapeConfigs)
	}
	if got := time.Duration(pc.ScrapeConfigs[0].ScrapeInterval); got != 7*time.Second {
		t.Errorf("global scrape_interval not applied: %v", got)
	}
	sd := pc.ScrapeConfigs[1].ServiceDiscoveryConfigs
	if len(sd) != 1 {
		t.Fatalf("file_sd_configs = %v", sd)
	}
	if got := sd[0].(*file.SDConfig).Files[0]; got != filepath.Join(dir, "targets/*.json") {
		t.Errorf("file_sd path %q not resolved against the config file's directory %q", got, dir)
	}
}

func TestRuleFilesParsedByPrometheusRelativeToConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mirador.yml")
	text := `
metrics:
  global:
    evaluation_interval: 5s
  rule_files:
    - rules/*.yml
    - /etc/mirador/extra.rules.yml
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"--config", path}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := cfg.Metrics.Prometheus
	want := []string{filepath.Join(dir, "rules/*.yml"), "/etc/mirador/extra.rules.yml"}
	if len(pc.RuleFiles) != 2 || pc.RuleFiles[0] != want[0] || pc.RuleFiles[1] != want[1] {
		t.Errorf("rule_files = %q, want %q (relative globs resolved against the config file's directory)", pc.RuleFiles, want)
	}
	if got := time.Duration(pc.GlobalConfig.EvaluationInterval); got != 5*time.Second {
		t.Errorf("evaluation_interval = %v", got)
	}

	// Prometheus allows a wildcard only in the file name.
	bad := writeFile(t, "metrics:\n  rule_files: ['*/alerts.yml']\n")
	if _, err := Load([]string{"--config", bad}, nil, nil); err == nil || !strings.Contains(err.Error(), "rule") {
		t.Errorf("invalid glob accepted: %v", err)
	}
}

func TestHelpListsEveryFlagWithEnvAndDefault(t *testing.T) {
	var out bytes.Buffer
	_, err := Load([]string{"--help"}, nil, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"--config", "--data-dir", "--http-addr", "--otlp-http-addr", "--otlp-grpc-addr", "--insecure", "MIRADOR_METRICS_RETENTION_TIME", `"127.0.0.1:7070"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// TestReferenceDocIsCurrent keeps docs/configuration.md true: regenerate it
// with `go test ./internal/config -run Reference -update`.
var update = flag.Bool("update", false, "rewrite docs/configuration.md")

func TestReferenceDocIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "configuration.md")
	const marker = "<!-- generated: settings -->\n"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(doc), marker)
	if !ok {
		t.Fatalf("%s lacks the marker %q", path, marker)
	}
	want := head + marker + Reference()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s is out of date: run go test ./internal/config -run Reference -update", path)
	}
}
