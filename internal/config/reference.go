package config

import (
	"fmt"
	"io"
	"reflect"
	"strings"
)

func writeUsage(w io.Writer, leaves []field) {
	fmt.Fprintln(w, "Usage: mirador server [flags]")
	fmt.Fprintln(w, "\nStarts Mirador. Each setting comes from, in increasing precedence: its default,")
	fmt.Fprintln(w, "the --config YAML file, its MIRADOR_* environment variable, its flag.")
	fmt.Fprintln(w, "\n  --config FILE\n        YAML configuration file (env MIRADOR_CONFIG)")
	for _, f := range leaves {
		if f.fileOnly() {
			continue
		}
		fmt.Fprintf(w, "  --%s\n        %s (default %q; env %s)\n", f.flagName(), f.help, formatValue(f.v), f.envName())
	}
	fmt.Fprintln(w, "\nFile-only settings: metrics.global, metrics.scrape_configs, metrics.otlp, metrics.rule_files, tenant_limits.")
}

// Reference renders every setting as a Markdown table: file key, flag,
// environment variable, default and description.
func Reference() string {
	var b strings.Builder
	b.WriteString("| setting (file) | flag | environment | default | description |\n|---|---|---|---|---|\n")
	for _, f := range fieldsOf(reflect.ValueOf(Default()).Elem(), "") {
		flagName, env, def := "—", "—", "—"
		if !f.fileOnly() {
			flagName, env, def = "`--"+f.flagName()+"`", "`"+f.envName()+"`", "`"+formatValue(f.v)+"`"
			if formatValue(f.v) == "" {
				def = "empty"
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.path, flagName, env, def, f.help)
	}
	return b.String()
}
