package api

import (
	"html/template"
	"net/http"
)

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mirador</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .25rem}td{padding:.15rem .75rem .15rem 0;vertical-align:top}</style>
</head><body>
<h1>Mirador {{.Version}}</h1>
<p>Metrics, logs, traces, alarms and more in one binary. This server's endpoints:</p>
<table>{{range .Routes}}<tr><td><code>{{.Method}} {{.Path}}</code></td><td>{{.Summary}}{{if .Scope}} <em>(scope {{.Scope}})</em>{{end}}</td></tr>
{{end}}</table>
<p>Grafana: add a Prometheus data source with URL <code>http://&lt;this host&gt;:&lt;port&gt;/prometheus</code>.
The full description is <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
`))

func (o Options) index() http.Handler {
	type row struct{ Method, Path, Summary, Scope string }
	var rows []row
	for _, rt := range routeTable {
		if rt.method != "" && rt.name != "index" && rt.summary != "" {
			rows = append(rows, row{rt.method, rt.path, rt.summary, string(rt.scope)})
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = indexPage.Execute(w, map[string]any{"Version": o.Version, "Routes": rows})
	})
}
