// Package config holds Mirador's one typed configuration tree and loads it
// from defaults, a YAML file, MIRADOR_* environment variables and flags, in
// that order of increasing precedence.
//
// The tree is the single source of truth for every setting: flag names,
// environment names and the configuration reference are derived from its
// struct tags, so they cannot drift apart. Every value is checked at load time
// and an invalid one is refused with an error that names the field, the value
// and what would be valid.
//
// The Prometheus-format sections (metrics.global, metrics.scrape_configs,
// metrics.otlp) are handed verbatim to Prometheus's own config loader, so a
// user can paste a section of their prometheus.yml.
//
// It imports only internal/tenant, for the rule of what names a tenant.
package config
