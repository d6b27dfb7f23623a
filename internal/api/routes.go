package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/miradorhq/mirador/internal/alarms"
	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/ingest/otlp"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/logs/metricfilter"
	"github.com/miradorhq/mirador/internal/metrics"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/traces"
	"github.com/miradorhq/mirador/internal/traces/sampling"
	"github.com/miradorhq/mirador/internal/traces/xray"
)

// Options are the components the HTTP surface serves.
type Options struct {
	Authenticator *auth.Authenticator
	Tenants       *auth.Tenants
	Keys          *auth.Keys
	Metrics       *metrics.Engine
	OTLP          *otlp.Receiver
	Logs          *logs.Service
	Traces        *traces.Service
	Sampling      *sampling.Service
	XRay          *xray.Decoder
	Alarms        *alarms.Service
	Notify        *notify.Service
	MetricFilters *metricfilter.Store
	// Ready reports why the server is not ready yet, or nil once it is.
	Ready      func() error
	Version    string
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// PrometheusPrefix is where the Prometheus-compatible API is mounted; it is
// the base URL of a Grafana Prometheus data source (http://host:7070/prometheus).
const PrometheusPrefix = "/prometheus/api/v1"

// A route is one entry of the HTTP surface: its path, the scope a caller
// needs and its documentation. Routes whose name has no handler only
// document a path served by a mount (a route whose path ends in '/').
type route struct {
	name    string // operationId, handler key and handler label of self-metrics
	method  string // empty: any method
	path    string // OpenAPI form: /api/v1/keys/{id}
	scope   auth.Scope
	tag     string
	summary string
	doc     *operationDoc // request and response documentation
	stream  bool          // the response is a long-lived stream
}

var routeTable = append([]route{
	{name: "index", method: "GET", path: "/{$}", tag: "server", summary: "Links to Mirador's endpoints"},
	{name: "healthy", method: "GET", path: "/-/healthy", tag: "server", summary: "Liveness: 200 while the process serves HTTP"},
	{name: "ready", method: "GET", path: "/-/ready", tag: "server", summary: "Readiness: 200 once storage is open, 503 before"},
	{name: "metrics", method: "GET", path: "/metrics", tag: "server", summary: "Mirador's own metrics in the Prometheus exposition format"},
	{name: "openapi", method: "GET", path: "/api/v1/openapi.json", tag: "server", summary: "This OpenAPI document"},
	{name: "whoami", method: "GET", path: "/api/v1/whoami", tag: "auth", summary: "The tenant and scopes of the calling credential", doc: whoamiDoc},
	{name: "listTenants", method: "GET", path: "/api/v1/tenants", scope: auth.ScopeAdmin, tag: "auth", summary: "List tenants", doc: listTenantsDoc},
	{name: "createTenant", method: "POST", path: "/api/v1/tenants", scope: auth.ScopeAdmin, tag: "auth", summary: "Create a tenant", doc: createTenantDoc},
	{name: "listKeys", method: "GET", path: "/api/v1/keys", scope: auth.ScopeAdmin, tag: "auth", summary: "List API keys (never their secrets)", doc: listKeysDoc},
	{name: "createKey", method: "POST", path: "/api/v1/keys", scope: auth.ScopeAdmin, tag: "auth", summary: "Create an API key; the secret is in this response only", doc: createKeyDoc},
	{name: "revokeKey", method: "DELETE", path: "/api/v1/keys/{id}", scope: auth.ScopeAdmin, tag: "auth", summary: "Revoke an API key", doc: revokeKeyDoc},
	{name: "ingestLogs", method: "POST", path: "/api/v1/logs/ingest", scope: auth.ScopeIngest, tag: "logs", summary: "Ingest NDJSON or plain-text log lines into a group", doc: ingestLogsDoc},
	{name: "queryLogs", method: "POST", path: "/api/v1/logs/query", scope: auth.ScopeRead, tag: "logs", summary: "Run a Logs Insights query", doc: queryLogsDoc},
	{name: "filterLogs", method: "POST", path: "/api/v1/logs/filter", scope: auth.ScopeRead, tag: "logs", summary: "Search log events with a CloudWatch filter pattern, oldest first", doc: filterLogsDoc},
	{name: "tailLogs", method: "GET", path: "/api/v1/logs/tail", scope: auth.ScopeRead, tag: "logs", summary: "Live tail: matching records as they arrive (server-sent events)", doc: tailLogsDoc, stream: true},
	{name: "listLogGroups", method: "GET", path: "/api/v1/logs/groups", scope: auth.ScopeRead, tag: "logs", summary: "List log groups", doc: listLogGroupsDoc},
	{name: "createLogGroup", method: "POST", path: "/api/v1/logs/groups", scope: auth.ScopeIngest, tag: "logs", summary: "Create a log group", doc: createLogGroupDoc},
	{name: "getLogGroup", method: "GET", path: "/api/v1/logs/groups/{name...}", scope: auth.ScopeRead, tag: "logs", summary: "Describe a log group", doc: logGroupDoc},
	{name: "putLogGroup", method: "PUT", path: "/api/v1/logs/groups/{name...}", scope: auth.ScopeAdmin, tag: "logs", summary: "Set a log group's retention, creating the group if needed", doc: putLogGroupDoc},
	{name: "deleteLogGroup", method: "DELETE", path: "/api/v1/logs/groups/{name...}", scope: auth.ScopeAdmin, tag: "logs", summary: "Delete a log group and all its records", doc: deleteLogGroupDoc},
	{name: "listMetricFilters", method: "GET", path: "/api/v1/logs/metric-filters", scope: auth.ScopeRead, tag: "logs", summary: "List metric filters (of one log group with ?group=)", doc: listMetricFiltersDoc},
	{name: "putMetricFilter", method: "PUT", path: "/api/v1/logs/metric-filters/{name}", scope: auth.ScopeAdmin, tag: "logs", summary: "Create or replace a metric filter: log records matching a pattern become a metric", doc: putMetricFilterDoc},
	{name: "deleteMetricFilter", method: "DELETE", path: "/api/v1/logs/metric-filters/{name}", scope: auth.ScopeAdmin, tag: "logs", summary: "Delete a metric filter", doc: deleteMetricFilterDoc},
	{name: "testMetricFilter", method: "POST", path: "/api/v1/logs/metric-filters/test", scope: auth.ScopeRead, tag: "logs", summary: "Test a filter pattern on sample messages (TestMetricFilter)", doc: testMetricFilterDoc},
	{name: "lokiPush", method: "POST", path: LokiPrefix + "/push", scope: auth.ScopeIngest, tag: "loki", summary: "Loki push API: protobuf (snappy) or JSON streams, as promtail, Grafana Alloy, Fluent Bit's loki output and the Docker driver send", doc: lokiPushDoc},
	{name: "lokiQueryRange", method: "GET", path: LokiPrefix + "/query_range", scope: auth.ScopeRead, tag: "loki", summary: "Loki query_range: LogQL log queries (streams) and metric queries (matrix)", doc: lokiQueryDoc},
	{name: "lokiQuery", method: "GET", path: LokiPrefix + "/query", scope: auth.ScopeRead, tag: "loki", summary: "Loki instant query: a LogQL metric query at one time (vector)", doc: lokiInstantDoc},
	{name: "lokiQueryPost", method: "POST", path: LokiPrefix + "/query", scope: auth.ScopeRead, tag: "loki", summary: "Loki instant query, form-encoded", doc: lokiInstantDoc},
	{name: "lokiQueryRangePost", method: "POST", path: LokiPrefix + "/query_range", scope: auth.ScopeRead, tag: "loki", summary: "Loki query_range, form-encoded", doc: lokiQueryDoc},
	{name: "esInfo", method: "GET", path: ESPrefix + "/{$}", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Elasticsearch cluster info (the version shippers read at start-up)", doc: esDoc},
	{name: "esClusterHealth", method: "GET", path: ESPrefix + "/_cluster/health", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Elasticsearch cluster health (Vector's health check)", doc: esDoc},
	{name: "esLicense", method: "GET", path: ESPrefix + "/_license", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "A basic license, so Logstash does not set up index lifecycle management", doc: esDoc},
	{name: "esXpack", method: "GET", path: ESPrefix + "/_xpack", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "X-Pack info: no ILM", doc: esDoc},
	{name: "esGetIndexTemplate", method: "GET", path: ESPrefix + "/_index_template/{name}", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Index templates: none is kept (404)", doc: esDoc},
	{name: "esPutIndexTemplate", method: "PUT", path: ESPrefix + "/_index_template/{name}", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Index templates are acknowledged and not kept (there are no mappings)", doc: esDoc},
	{name: "esGetLegacyTemplate", method: "GET", path: ESPrefix + "/_template/{name}", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Legacy index templates: none is kept (404)", doc: esDoc},
	{name: "esPutLegacyTemplate", method: "PUT", path: ESPrefix + "/_template/{name}", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Legacy index templates: acknowledged and not kept", doc: esDoc},
	{name: "esBulk", method: "POST", path: ESPrefix + "/_bulk", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Elasticsearch _bulk: index and create actions become log records; the index (less a date suffix) names the log group", doc: esBulkDoc},
	{name: "esIndexBulk", method: "POST", path: ESPrefix + "/{index}/_bulk", scope: auth.ScopeIngest, tag: "elasticsearch", summary: "Elasticsearch _bulk with a default index", doc: esBulkDoc},
	{name: "listServices", method: "GET", path: "/api/v1/traces/services", scope: auth.ScopeRead, tag: "traces", summary: "List the services that sent spans", doc: listServicesDoc},
	{name: "searchTraces", method: "POST", path: "/api/v1/traces/search", scope: auth.ScopeRead, tag: "traces", summary: "Find traces by service, operation, attributes, duration, error and time", doc: searchTracesDoc},
	{name: "queryTraces", method: "POST", path: "/api/v1/traces/query", scope: auth.ScopeRead, tag: "traces", summary: "Run an Insights pipeline over spans", doc: queryTracesDoc},
	{name: "serviceMap", method: "GET", path: "/api/v1/traces/servicemap", scope: auth.ScopeRead, tag: "traces", summary: "Services, what they call, and each edge's rate, errors and latency", doc: serviceMapDoc},
	{name: "listSamplingRules", method: "GET", path: "/api/v1/traces/sampling-rules", scope: auth.ScopeRead, tag: "traces", summary: "List X-Ray sampling rules in evaluation order, Default included", doc: listSamplingRulesDoc},
	{name: "createSamplingRule", method: "POST", path: "/api/v1/traces/sampling-rules", scope: auth.ScopeAdmin, tag: "traces", summary: "Create an X-Ray sampling rule", doc: createSamplingRuleDoc},
	{name: "getSamplingRule", method: "GET", path: "/api/v1/traces/sampling-rules/{name}", scope: auth.ScopeRead, tag: "traces", summary: "Describe a sampling rule", doc: samplingRuleDoc},
	{name: "updateSamplingRule", method: "PUT", path: "/api/v1/traces/sampling-rules/{name}", scope: auth.ScopeAdmin, tag: "traces", summary: "Change fields of a sampling rule (only FixedRate and ReservoirSize of Default)", doc: updateSamplingRuleDoc},
	{name: "deleteSamplingRule", method: "DELETE", path: "/api/v1/traces/sampling-rules/{name}", scope: auth.ScopeAdmin, tag: "traces", summary: "Delete a sampling rule (not Default)", doc: samplingRuleDoc},
	{name: "getTrace", method: "GET", path: "/api/v1/traces/{traceId}", scope: auth.ScopeRead, tag: "traces", summary: "A whole trace by id (32 hex digits or an X-Ray id), without a time range", doc: getTraceDoc},
	{name: "listAlarms", method: "GET", path: "/api/v1/alarms", scope: auth.ScopeRead, tag: "alarms", summary: "List alarms with their state", doc: listAlarmsDoc},
	{name: "getAlarm", method: "GET", path: "/api/v1/alarms/{name}", scope: auth.ScopeRead, tag: "alarms", summary: "Describe an alarm and its state", doc: alarmDoc},
	{name: "putAlarm", method: "PUT", path: "/api/v1/alarms/{name}", scope: auth.ScopeAdmin, tag: "alarms", summary: "Create or replace a metric or composite alarm", doc: putAlarmDoc},
	{name: "deleteAlarm", method: "DELETE", path: "/api/v1/alarms/{name}", scope: auth.ScopeAdmin, tag: "alarms", summary: "Delete an alarm (its history stays)", doc: alarmDoc},
	{name: "setAlarmState", method: "POST", path: "/api/v1/alarms/{name}/state", scope: auth.ScopeAdmin, tag: "alarms", summary: "Force an alarm's state to test its actions", doc: setAlarmStateDoc},
	{name: "setAlarmActions", method: "POST", path: "/api/v1/alarms/{name}/actions", scope: auth.ScopeAdmin, tag: "alarms", summary: "Enable or disable an alarm's actions", doc: alarmActionsDoc},
	{name: "alarmHistory", method: "GET", path: "/api/v1/alarms/{name}/history", scope: auth.ScopeRead, tag: "alarms", summary: "An alarm's history: configuration updates, state changes, actions", doc: alarmHistoryDoc},
	{name: "allAlarmHistory", method: "GET", path: "/api/v1/alarm-history", scope: auth.ScopeRead, tag: "alarms", summary: "The history of every alarm", doc: allHistoryDoc},
	{name: "queryAlarmHistory", method: "POST", path: "/api/v1/alarm-history/query", scope: auth.ScopeRead, tag: "alarms", summary: "Run a Logs Insights query over the alarm history", doc: queryHistoryDoc},
	{name: "listMutes", method: "GET", path: "/api/v1/mute-windows", scope: auth.ScopeRead, tag: "alarms", summary: "List mute windows that have not ended", doc: listMutesDoc},
	{name: "putMute", method: "POST", path: "/api/v1/mute-windows", scope: auth.ScopeAdmin, tag: "alarms", summary: "Mute the actions of matching alarms for a time", doc: putMuteDoc},
	{name: "deleteMute", method: "DELETE", path: "/api/v1/mute-windows/{id}", scope: auth.ScopeAdmin, tag: "alarms", summary: "End a mute window", doc: deleteMuteDoc},
	{name: "listTopics", method: "GET", path: "/api/v1/topics", scope: auth.ScopeRead, tag: "notifications", summary: "List topics", doc: listTopicsDoc},
	{name: "getTopic", method: "GET", path: "/api/v1/topics/{name}", scope: auth.ScopeRead, tag: "notifications", summary: "Describe a topic", doc: topicDoc},
	{name: "putTopic", method: "PUT", path: "/api/v1/topics/{name}", scope: auth.ScopeAdmin, tag: "notifications", summary: "Create or update a topic (idempotent)", doc: putTopicDoc},
	{name: "deleteTopic", method: "DELETE", path: "/api/v1/topics/{name}", scope: auth.ScopeAdmin, tag: "notifications", summary: "Delete a topic and its subscriptions", doc: topicDoc},
	{name: "publish", method: "POST", path: "/api/v1/topics/{name}/publish", scope: auth.ScopeIngest, tag: "notifications", summary: "Publish a message to a topic's subscriptions", doc: publishDoc},
	{name: "listSubscriptions", method: "GET", path: "/api/v1/topics/{name}/subscriptions", scope: auth.ScopeRead, tag: "notifications", summary: "List a topic's subscriptions", doc: listSubsDoc},
	{name: "subscribe", method: "POST", path: "/api/v1/topics/{name}/subscriptions", scope: auth.ScopeAdmin, tag: "notifications", summary: "Subscribe an endpoint to a topic", doc: subscribeDoc},
	{name: "confirmSubscription", method: "GET", path: "/api/v1/subscriptions/confirm", tag: "notifications", summary: "Confirm a webhook subscription (the SubscribeURL; the token is the credential)", doc: confirmDoc},
	{name: "getSubscription", method: "GET", path: "/api/v1/subscriptions/{id}", scope: auth.ScopeRead, tag: "notifications", summary: "Describe a subscription", doc: subscriptionDoc},
	{name: "unsubscribe", method: "DELETE", path: "/api/v1/subscriptions/{id}", scope: auth.ScopeAdmin, tag: "notifications", summary: "Delete a subscription", doc: subscriptionDoc},
	{name: "listDeliveries", method: "GET", path: "/api/v1/deliveries", scope: auth.ScopeRead, tag: "notifications", summary: "Outbox deliveries with every attempt (status, latency, error); state=dead lists the dead letters", doc: deliveriesDoc},
	{name: "redriveDelivery", method: "POST", path: "/api/v1/deliveries/redrive", scope: auth.ScopeAdmin, tag: "notifications", summary: "Give a dead-lettered delivery one more attempt", doc: redriveDoc},
	{name: "apiNotFound", path: "/api/v1/"},
	{name: "pprof", path: "/debug/pprof/", scope: auth.ScopeAdmin},
	{name: "jaegerServices", method: "GET", path: JaegerPrefix + "/services", scope: auth.ScopeRead, tag: "jaeger", summary: "Jaeger: services"},
	{name: "jaegerServiceOperations", method: "GET", path: JaegerPrefix + "/services/{service}/operations", scope: auth.ScopeRead, tag: "jaeger", summary: "Jaeger: a service's operation names"},
	{name: "jaegerOperations", method: "GET", path: JaegerPrefix + "/operations", scope: auth.ScopeRead, tag: "jaeger", summary: "Jaeger: operations with span kinds (?service=&spanKind=)"},
	{name: "jaegerTraces", method: "GET", path: JaegerPrefix + "/traces", scope: auth.ScopeRead, tag: "jaeger", summary: "Jaeger: find traces (service, operation, tags, start, end, lookback, minDuration, maxDuration, limit)"},
	{name: "jaegerTrace", method: "GET", path: JaegerPrefix + "/traces/{traceID}", scope: auth.ScopeRead, tag: "jaeger", summary: "Jaeger: one trace"},
	{name: "jaegerDependencies", method: "GET", path: JaegerPrefix + "/dependencies", scope: auth.ScopeRead, tag: "jaeger", summary: "Jaeger: service dependencies with call counts (endTs, lookback in ms)"},
	{name: "zipkinSpans", method: "POST", path: "/zipkin/api/v2/spans", scope: auth.ScopeIngest, tag: "traces", summary: "Zipkin v2 JSON spans, as Zipkin reporters send them", doc: zipkinDoc},
	{name: "xrayPutTraceSegments", method: "POST", path: "/TraceSegments", scope: auth.ScopeIngest, tag: "xray", summary: "X-Ray PutTraceSegments", doc: xrayDoc},
	{name: "xrayGetSamplingRules", method: "POST", path: "/GetSamplingRules", scope: auth.ScopeIngest, tag: "xray", summary: "X-Ray GetSamplingRules (what the X-Ray SDKs call)", doc: xrayDoc},
	{name: "xraySamplingTargets", method: "POST", path: "/SamplingTargets", scope: auth.ScopeIngest, tag: "xray", summary: "X-Ray GetSamplingTargets: reservoir quotas per client", doc: xrayDoc},
	{name: "xrayTelemetryRecords", method: "POST", path: "/TelemetryRecords", scope: auth.ScopeIngest, tag: "xray", summary: "X-Ray PutTelemetryRecords (accepted and discarded)", doc: xrayDoc},
	{name: "xrayCreateSamplingRule", method: "POST", path: "/CreateSamplingRule", scope: auth.ScopeAdmin, tag: "xray", summary: "X-Ray CreateSamplingRule", doc: xrayDoc},
	{name: "xrayUpdateSamplingRule", method: "POST", path: "/UpdateSamplingRule", scope: auth.ScopeAdmin, tag: "xray", summary: "X-Ray UpdateSamplingRule", doc: xrayDoc},
	{name: "xrayDeleteSamplingRule", method: "POST", path: "/DeleteSamplingRule", scope: auth.ScopeAdmin, tag: "xray", summary: "X-Ray DeleteSamplingRule", doc: xrayDoc},
	{name: "remoteWrite", method: "POST", path: PrometheusPrefix + "/write", scope: auth.ScopeIngest, tag: "prometheus", summary: "Prometheus remote write 1.0 and 2.0 (snappy protobuf)", doc: remoteWriteDoc},
	{name: "otlpMetrics", method: "POST", path: PrometheusPrefix + "/otlp/v1/metrics", scope: auth.ScopeIngest, tag: "prometheus", summary: "OTLP/HTTP metrics (protobuf or JSON, gzip), as on the OTLP port", doc: otlpDoc},
	{name: "prometheusAPI", path: PrometheusPrefix + "/", scope: auth.ScopeRead},
}, prometheusRoutes...)

// handlers maps route names to what serves them.
func (o Options) handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"index":        o.index(),
		"healthy":      healthy(),
		"ready":        o.ready(),
		"metrics":      promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}),
		"openapi":      serveOpenAPI(o.Version),
		"whoami":       o.whoami(),
		"listTenants":  o.listTenants(),
		"createTenant": o.createTenant(),
		"listKeys":     o.listKeys(),
		"createKey":    o.createKey(),
		"revokeKey":    o.revokeKey(),
		"apiNotFound": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "no endpoint %s %s: see /api/v1/openapi.json", r.Method, r.URL.Path)
		}),
		"ingestLogs":     o.ingestLogs(),
		"queryLogs":      o.queryLogs(),
		"filterLogs":     o.filterLogs(),
		"tailLogs":       o.tailLogs(),
		"listLogGroups":  o.listLogGroups(),
		"createLogGroup": o.createLogGroup(),
		"getLogGroup":    o.getLogGroup(),
		"putLogGroup":    o.putLogGroup(),
		"deleteLogGroup": o.deleteLogGroup(),
		"listServices":   o.listServices(),
		"searchTraces":   o.searchTraces(),
		"queryTraces":    o.queryTraces(),
		"serviceMap":     o.serviceMap(),
		"getTrace":       o.getTrace(),

		"listSamplingRules":       o.listSamplingRules(),
		"createSamplingRule":      o.createSamplingRule(),
		"getSamplingRule":         o.samplingRule(),
		"updateSamplingRule":      o.samplingRule(),
		"deleteSamplingRule":      o.samplingRule(),
		"zipkinSpans":             o.zipkinSpans(),
		"jaegerServices":          o.jaegerServices(),
		"jaegerServiceOperations": o.jaegerOperations(),
		"jaegerOperations":        o.jaegerOperations(),
		"jaegerTraces":            o.jaegerTraces(),
		"jaegerTrace":             o.jaegerTrace(),
		"jaegerDependencies":      o.jaegerDependencies(),
		"xrayPutTraceSegments":    o.putTraceSegments(),
		"xrayGetSamplingRules":    o.xraySampling(),
		"xraySamplingTargets":     o.xraySampling(),
		"xrayTelemetryRecords":    o.xraySampling(),
		"xrayCreateSamplingRule":  o.xraySampling(),
		"xrayUpdateSamplingRule":  o.xraySampling(),
		"xrayDeleteSamplingRule":  o.xraySampling(),

		"lokiPush":            o.lokiPush(),
		"lokiQueryRange":      o.lokiQueryRange(),
		"lokiQueryRangePost":  o.lokiQueryRange(),
		"lokiQuery":           o.lokiQuery(),
		"lokiQueryPost":       o.lokiQuery(),
		"esInfo":              o.esInfo(),
		"esClusterHealth":     o.esClusterHealth(),
		"esLicense":           o.esLicense(),
		"esXpack":             o.esLicense(),
		"esGetIndexTemplate":  o.esTemplate(),
		"esPutIndexTemplate":  o.esTemplate(),
		"esGetLegacyTemplate": o.esTemplate(),
		"esPutLegacyTemplate": o.esTemplate(),
		"esBulk":              o.esBulk(),
		"esIndexBulk":         o.esBulk(),
		"listMetricFilters":   o.listMetricFilters(),
		"putMetricFilter":     o.putMetricFilter(),
		"deleteMetricFilter":  o.deleteMetricFilter(),
		"testMetricFilter":    o.testMetricFilter(),
		"listAlarms":          o.listAlarms(),
		"getAlarm":            o.getAlarm(),
		"putAlarm":            o.putAlarm(),
		"deleteAlarm":         o.deleteAlarm(),
		"setAlarmState":       o.setAlarmState(),
		"setAlarmActions":     o.setAlarmActions(),
		"alarmHistory":        o.alarmHistory(),
		"allAlarmHistory":     o.alarmHistory(),
		"queryAlarmHistory":   o.queryAlarmHistory(),
		"listMutes":           o.listMutes(),
		"putMute":             o.putMute(),
		"deleteMute":          o.deleteMute(),
		"listTopics":          o.listTopics(),
		"getTopic":            o.getTopic(),
		"putTopic":            o.putTopic(),
		"deleteTopic":         o.deleteTopic(),
		"publish":             o.publish(),
		"listSubscriptions":   o.listSubscriptions(),
		"subscribe":           o.subscribe(),
		"confirmSubscription": o.confirmSubscription(),
		"getSubscription":     o.getSubscription(),
		"unsubscribe":         o.unsubscribe(),
		"listDeliveries":      o.listDeliveries(),
		"redriveDelivery":     o.redrive(),

		"pprof":         profiling(),
		"remoteWrite":   o.Metrics.RemoteWriteHandler(),
		"otlpMetrics":   o.OTLP.MetricsHandler(),
		"prometheusAPI": o.Metrics.PrometheusAPI(PrometheusPrefix),
	}
}

// NewHandler returns the main port's handler.
func NewHandler(o Options) http.Handler {
	requests := promauto.With(o.Registerer).NewCounterVec(prometheus.CounterOpts{
		Name: "mirador_http_requests_total",
		Help: "HTTP requests on the main port, by route and status code.",
	}, []string{"handler", "code"})
	duration := promauto.With(o.Registerer).NewHistogramVec(prometheus.HistogramOpts{
		Name:                            "mirador_http_request_duration_seconds",
		Help:                            "Latency of HTTP requests on the main port, by route.",
		Buckets:                         prometheus.DefBuckets,
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  100,
		NativeHistogramMinResetDuration: 0,
	}, []string{"handler"})

	handlers := o.handlers()
	mux := http.NewServeMux()
	for _, rt := range routeTable {
		h, ok := handlers[rt.name]
		if !ok {
			continue
		}
		if rt.scope != "" {
			h = o.Authenticator.Require(rt.scope, h)
		}
		labels := prometheus.Labels{"handler": rt.name}
		h = promhttp.InstrumentHandlerDuration(duration.MustCurryWith(labels), promhttp.InstrumentHandlerCounter(requests.MustCurryWith(labels), h))
		pattern := rt.path
		if rt.method != "" {
			pattern = rt.method + " " + rt.path
		}
		mux.Handle(pattern, h)
	}
	return mux
}

// profiling serves Go's profiles (CPU, heap, goroutines, traces) for
// `go tool pprof http://host:7070/debug/pprof/profile`.
func profiling() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func healthy() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Mirador is Healthy.")
	})
}

func (o Options) ready() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := o.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "Mirador is not ready: %v\n", err)
			return
		}
		fmt.Fprintln(w, "Mirador is Ready.")
	})
}
