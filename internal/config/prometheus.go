package config

import (
	"fmt"
	"log/slog"
	"regexp"

	promconfig "github.com/prometheus/prometheus/config"
	// Static service discovery is built in; file SD registers itself. No
	// other discovery mechanism is linked in (each drags in a cloud SDK).
	_ "github.com/prometheus/prometheus/discovery/file"
	"go.yaml.in/yaml/v3"
)

// yamlLine matches the line references in Prometheus's loader errors, which
// point into the document assembled here rather than the user's file.
var yamlLine = regexp.MustCompile(`line \d+: `)

// parsePrometheus hands the Prometheus-format sections to Prometheus's own
// loader, which applies its defaults and validation.
func (c *Config) parsePrometheus() error {
	doc := map[string]*yaml.Node{}
	for name, n := range map[string]*yaml.Node{"global": &c.Metrics.Global, "scrape_configs": &c.Metrics.ScrapeConfigs, "otlp": &c.Metrics.OTLP, "rule_files": &c.Metrics.RuleFiles} {
		if n.Kind != 0 {
			doc[name] = n
		}
	}
	text, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	pc, err := promconfig.Load(string(text), slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("invalid configuration: metrics (Prometheus global/scrape_configs/otlp/rule_files sections): %s", yamlLine.ReplaceAllString(err.Error(), ""))
	}
	pc.SetDirectory(c.configDir())
	c.Metrics.Prometheus = pc
	return nil
}
