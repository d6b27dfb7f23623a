package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/miradorhq/mirador/internal/auth"
)

// operationDoc documents an operation's parameters, body and responses.
type operationDoc struct {
	params    []param
	request   *content
	responses map[string]content // by status code
}

type param struct {
	name, in, desc string
	required       bool
	array          bool
}

type content struct {
	desc, mediaType string
	schema          map[string]any
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func success(data map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{
		"status": map[string]any{"type": "string", "enum": []string{"success"}},
		"data":   data,
	}}
}

func arrayOf(items map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}

var (
	whoamiDoc = &operationDoc{responses: map[string]content{"200": {desc: "The principal", schema: success(ref("Principal"))}}}

	listTenantsDoc  = &operationDoc{responses: map[string]content{"200": {desc: "All tenants", schema: success(arrayOf(ref("Tenant")))}}}
	createTenantDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "required": []string{"id"}, "properties": map[string]any{
			"id": map[string]any{"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
		}}},
		responses: map[string]content{"201": {desc: "Created", schema: success(ref("Tenant"))}, "409": {desc: "The tenant exists"}},
	}
	listKeysDoc  = &operationDoc{responses: map[string]content{"200": {desc: "All keys, active and revoked", schema: success(arrayOf(ref("Key")))}}}
	createKeyDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "required": []string{"scopes"}, "properties": map[string]any{
			"tenant": map[string]any{"type": "string", "default": "default"},
			"name":   map[string]any{"type": "string"},
			"scopes": arrayOf(map[string]any{"type": "string", "enum": []string{"ingest", "read", "admin"}}),
		}}},
		responses: map[string]content{"201": {desc: "Created; data.secret is shown only here", schema: success(ref("NewKey"))}},
	}
	revokeKeyDoc = &operationDoc{
		params:    []param{{name: "id", in: "path", required: true, desc: "Key ID"}},
		responses: map[string]content{"200": {desc: "Revoked", schema: success(ref("Key"))}, "404": {desc: "No such key"}},
	}
	remoteWriteDoc = &operationDoc{
		request: &content{mediaType: "application/x-protobuf", desc: "Snappy-compressed prometheus.WriteRequest (1.0) or io.prometheus.write.v2.Request (2.0, Content-Type parameter proto=io.prometheus.write.v2.Request)"},
		responses: map[string]content{
			"204": {desc: "All samples stored"},
			"400": {desc: "Some samples rejected (the rest stored); the body names each reason with an example"},
			"413": {desc: "Body over limits.max_request_body_bytes"},
			"415": {desc: "Unsupported Content-Type or Content-Encoding"},
			"429": {desc: "Over the tenant's ingest rate; nothing stored; see Retry-After"},
		},
	}
	otlpDoc = &operationDoc{
		request: &content{mediaType: "application/x-protobuf", desc: "ExportMetricsServiceRequest as protobuf or JSON (application/json), optionally gzip-compressed"},
		responses: map[string]content{
			"200": {desc: "ExportMetricsServiceResponse; partial_success counts rejected points and says why"},
			"400": {desc: "Undecodable body (google.rpc.Status)"},
			"413": {desc: "Body over limits.max_request_body_bytes"},
			"429": {desc: "Over the tenant's ingest rate; see Retry-After"},
		},
	}
)

// prometheusRoutes document the Prometheus HTTP API endpoints served by
// the prometheusAPI mount; their shapes are Prometheus's.
var prometheusRoutes = func() []route {
	rangeParams := []param{{name: "start", in: "query", desc: "RFC 3339 or Unix timestamp"}, {name: "end", in: "query", desc: "RFC 3339 or Unix timestamp"}}
	match := param{name: "match[]", in: "query", desc: "Series selector", array: true}
	limit := param{name: "limit", in: "query", desc: "Maximum number of returned items"}
	eps := []struct {
		name, path, summary string
		post                bool
		params              []param
	}{
		{"query", "/query", "Evaluate a PromQL expression at one time", true, []param{{name: "query", in: "query", required: true, desc: "PromQL expression"}, {name: "time", in: "query", desc: "Evaluation time"}, {name: "timeout", in: "query"}, limit}},
		{"queryRange", "/query_range", "Evaluate a PromQL expression over a range", true, append([]param{{name: "query", in: "query", required: true, desc: "PromQL expression"}, {name: "step", in: "query", required: true, desc: "Resolution: duration or seconds"}, {name: "timeout", in: "query"}, limit}, rangeParams...)},
		{"series", "/series", "Series matching selectors", true, append([]param{match, limit}, rangeParams...)},
		{"labels", "/labels", "Label names", true, append([]param{match, limit}, rangeParams...)},
		{"labelValues", "/label/{name}/values", "Values of a label", false, append([]param{{name: "name", in: "path", required: true}, match, limit}, rangeParams...)},
		{"metadata", "/metadata", "Metric metadata from scrape targets", false, []param{{name: "metric", in: "query"}, limit}},
		{"queryExemplars", "/query_exemplars", "Exemplars of the series a PromQL expression selects", true, append([]param{{name: "query", in: "query", required: true}}, rangeParams...)},
		{"formatQuery", "/format_query", "Pretty-print a PromQL expression", true, []param{{name: "query", in: "query", required: true}}},
		{"parseQuery", "/parse_query", "Parse a PromQL expression into its syntax tree", true, []param{{name: "query", in: "query", required: true}}},
		{"targets", "/targets", "Scrape targets and their health (scrape tenant only)", false, []param{{name: "state", in: "query", desc: "active, dropped or any"}, {name: "scrapePool", in: "query"}}},
		{"targetsMetadata", "/targets/metadata", "Metadata of scraped metrics per target", false, []param{{name: "match_target", in: "query"}, {name: "metric", in: "query"}, limit}},
		{"scrapePools", "/scrape_pools", "Scrape pool names", false, nil},
		{"rules", "/rules", "Loaded rule groups", false, nil},
		{"alerts", "/alerts", "Active alerts", false, nil},
		{"buildInfo", "/status/buildinfo", "Build information (the PromQL engine is Prometheus 3.15's)", false, nil},
		{"runtimeInfo", "/status/runtimeinfo", "Runtime information", false, nil},
		{"tsdbStatus", "/status/tsdb", "Head cardinality statistics of the tenant's TSDB", false, []param{limit}},
		{"flags", "/status/flags", "Effective storage and query settings", false, nil},
		{"config", "/status/config", "Effective Prometheus configuration (scrape tenant)", false, nil},
	}
	var rs []route
	for _, e := range eps {
		doc := &operationDoc{params: e.params, responses: map[string]content{
			"200": {desc: "Prometheus API response", schema: ref("PrometheusResponse")},
			"400": {desc: "Invalid parameters or expression", schema: ref("Error")},
			"422": {desc: "Expression could not be evaluated", schema: ref("Error")},
		}}
		rs = append(rs, route{name: e.name, method: "GET", path: PrometheusPrefix + e.path, scope: auth.ScopeRead, tag: "prometheus", summary: e.summary, doc: doc})
		if e.post {
			rs = append(rs, route{name: e.name + "Post", method: "POST", path: PrometheusPrefix + e.path, scope: auth.ScopeRead, tag: "prometheus", summary: e.summary + " (form-encoded parameters)", doc: doc})
		}
	}
	return rs
}()

// openAPI renders the route table as an OpenAPI 3.1 document.
func openAPI(routes []route, version string) map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		if rt.method == "" || strings.HasSuffix(rt.path, "/") {
			continue // mounts and catch-alls are documented by their endpoints
		}
		path := openAPIPath(rt.path)
		op := map[string]any{"operationId": rt.name, "summary": rt.summary, "tags": []string{rt.tag}}
		if rt.scope != "" {
			op["description"] = "Requires an API key with scope " + string(rt.scope) + " (admin implies every scope) when authentication is on."
			op["security"] = []map[string][]string{{"bearer": {}}, {"basic": {}}}
		}
		responses := map[string]any{"default": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}}
		if rt.scope != "" {
			responses["401"] = map[string]any{"description": "Missing or invalid credentials", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
			responses["403"] = map[string]any{"description": "The key lacks the scope", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
		if rt.doc != nil {
			var params []map[string]any
			for _, p := range rt.doc.params {
				schema := map[string]any{"type": "string"}
				if p.array {
					schema = arrayOf(schema)
				}
				params = append(params, map[string]any{"name": p.name, "in": p.in, "required": p.required, "description": p.desc, "schema": schema})
			}
			if params != nil {
				op["parameters"] = params
			}
			if b := rt.doc.request; b != nil {
				op["requestBody"] = map[string]any{"required": true, "description": b.desc, "content": map[string]any{mediaType(b): map[string]any{"schema": schemaOr(b.schema)}}}
			}
			for code, c := range rt.doc.responses {
				r := map[string]any{"description": c.desc}
				if c.schema != nil {
					r["content"] = map[string]any{mediaType(&c): map[string]any{"schema": c.schema}}
				}
				responses[code] = r
			}
		} else {
			responses["200"] = map[string]any{"description": "OK"}
		}
		op["responses"] = responses
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Mirador API",
			"version":     version,
			"description": "Mirador's native API and its Prometheus-compatible API. Responses use the envelope {status, data} or {status, errorType, error}.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An API key: Authorization: Bearer mir_..."},
				"basic":  map[string]any{"type": "http", "scheme": "basic", "description": "An API key as the password; the user name is ignored (for Grafana and Prometheus)"},
			},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "required": []string{"status", "errorType", "error"}, "properties": map[string]any{
					"status": map[string]any{"type": "string", "enum": []string{"error"}}, "errorType": map[string]any{"type": "string"}, "error": map[string]any{"type": "string"},
				}},
				"PrometheusResponse": map[string]any{"type": "object", "description": "See https://prometheus.io/docs/prometheus/latest/querying/api/", "properties": map[string]any{
					"status": map[string]any{"type": "string"}, "data": map[string]any{}, "warnings": arrayOf(map[string]any{"type": "string"}), "infos": arrayOf(map[string]any{"type": "string"}),
				}},
				"Principal": map[string]any{"type": "object", "properties": map[string]any{
					"tenant": map[string]any{"type": "string"}, "key_id": map[string]any{"type": "string"}, "scopes": arrayOf(map[string]any{"type": "string"}), "anonymous": map[string]any{"type": "boolean", "description": "True when no API key exists and authentication is off"},
				}},
				"Tenant": map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}, "created_at": map[string]any{"type": "string", "format": "date-time"}}},
				"Key":    keySchema(false),
				"NewKey": keySchema(true),
			},
		},
	}
}

func keySchema(withSecret bool) map[string]any {
	props := map[string]any{
		"id": map[string]any{"type": "string"}, "tenant": map[string]any{"type": "string"}, "name": map[string]any{"type": "string"},
		"scopes":       arrayOf(map[string]any{"type": "string", "enum": []string{"ingest", "read", "admin"}}),
		"created_at":   map[string]any{"type": "string", "format": "date-time"},
		"last_used_at": map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
		"revoked_at":   map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
	}
	if withSecret {
		props["secret"] = map[string]any{"type": "string", "description": "The API key; store it now, it is not shown again"}
	}
	return map[string]any{"type": "object", "properties": props}
}

// openAPIPath turns a ServeMux pattern into an OpenAPI path.
func openAPIPath(pattern string) string {
	return strings.ReplaceAll(strings.TrimSuffix(pattern, "{$}"), "...}", "}")
}

func mediaType(c *content) string {
	if c.mediaType != "" {
		return c.mediaType
	}
	return "application/json"
}

func schemaOr(s map[string]any) map[string]any {
	if s == nil {
		return map[string]any{"type": "string", "format": "binary"}
	}
	return s
}

func serveOpenAPI(version string) http.Handler {
	var once sync.Once
	var doc []byte
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { doc, _ = json.MarshalIndent(openAPI(routeTable, version), "", "  ") })
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
}
