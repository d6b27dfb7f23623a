package api

// OpenAPI documentation of the traces routes.

var (
	number = map[string]any{"type": "number"}

	summarySchema = map[string]any{"type": "object", "properties": map[string]any{
		"traceId": str, "xrayTraceId": str, "rootService": str, "rootOperation": str,
		"startTime": timestamp, "durationNanos": integer, "spanCount": integer, "errorCount": integer,
		"services": arrayOf(str),
	}}
	attrsSchema = map[string]any{"type": "object", "additionalProperties": true}
	spanSchema  = map[string]any{"type": "object", "properties": map[string]any{
		"traceId": str, "spanId": str, "parentSpanId": str, "service": str, "name": str,
		"kind":      map[string]any{"type": "string", "enum": []string{"unspecified", "internal", "server", "client", "producer", "consumer"}},
		"startTime": timestamp, "durationNanos": integer,
		"status": map[string]any{"type": "object", "properties": map[string]any{
			"code": map[string]any{"type": "string", "enum": []string{"unset", "ok", "error"}}, "message": str,
		}},
		"attributes": attrsSchema, "resource": attrsSchema,
		"events": arrayOf(map[string]any{"type": "object", "properties": map[string]any{"time": timestamp, "name": str, "attributes": attrsSchema}}),
		"links":  arrayOf(map[string]any{"type": "object", "properties": map[string]any{"traceId": str, "spanId": str, "traceState": str, "attributes": attrsSchema}}),
	}}
	latencySchema = map[string]any{"type": "object", "properties": map[string]any{"p50Ms": number, "p90Ms": number, "p99Ms": number}}

	listServicesDoc = &operationDoc{
		params: []param{
			{name: "start", in: "query", desc: "RFC 3339; default: all time"},
			{name: "end", in: "query", desc: "RFC 3339; default now"},
		},
		responses: map[string]content{"200": {desc: "Service names, sorted", schema: success(arrayOf(str))}},
	}
	getTraceDoc = &operationDoc{
		params: []param{{name: "traceId", in: "path", required: true, desc: "32 hex digits (shorter ids are zero-padded) or an X-Ray id 1-<8 hex>-<24 hex>"}},
		responses: map[string]content{
			"200": {desc: "The trace's summary and all its spans, oldest first", schema: success(map[string]any{"allOf": []any{summarySchema, map[string]any{"type": "object", "properties": map[string]any{"spans": arrayOf(spanSchema)}}}})},
			"400": {desc: "Not a trace id"},
			"404": {desc: "No span of this trace is stored"},
		},
	}
	searchTracesDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "properties": map[string]any{
			"service":   str,
			"operation": map[string]any{"type": "string", "description": "Span name"},
			"conditions": arrayOf(map[string]any{"type": "object", "required": []string{"key", "op"}, "properties": map[string]any{
				"key":   map[string]any{"type": "string", "description": "Span or resource attribute (X-Ray annotations are attributes)"},
				"op":    map[string]any{"type": "string", "enum": []string{"=", "!=", "<", "<=", ">", ">=", "exists"}},
				"value": map[string]any{"type": "string", "description": "Compared as a number when both sides are numbers"},
			}}),
			"minDuration": map[string]any{"type": "string", "description": "Go duration, e.g. 500ms"},
			"maxDuration": str,
			"error":       map[string]any{"type": "boolean", "description": "Only spans with status error"},
			"start":       map[string]any{"type": "string", "format": "date-time", "description": "Default: an hour before end"},
			"end":         map[string]any{"type": "string", "format": "date-time", "description": "Default: now"},
			"limit":       map[string]any{"type": "integer", "default": 20, "maximum": 1500},
		}}},
		responses: map[string]content{
			"200": {desc: "Traces with a span matching every condition, most recent first, each summarized whole", schema: success(arrayOf(summarySchema))},
			"400": {desc: "Invalid condition, duration, limit or time range"},
		},
	}
	queryTracesDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "required": []string{"query"}, "properties": map[string]any{
			"query":    map[string]any{"type": "string", "description": "Insights pipeline over spans; fields service, name, kind, duration (ns; write 500ms), durationMs, status, statusMessage, traceId, spanId, parentId and attributes, e.g. filter service = \"checkout\" and duration > 500ms | stats pct(duration, 99), count() by name"},
			"services": arrayOf(str),
			"start":    timestamp, "end": timestamp,
		}}},
		responses: map[string]content{
			"200": {desc: "As POST /api/v1/logs/query", schema: map[string]any{"type": "object", "properties": map[string]any{
				"status": str, "fields": arrayOf(str), "rows": arrayOf(map[string]any{"type": "object"}), "stats": logStatsSchema,
			}}},
			"400": {desc: "Invalid query (line and column given) or time range"},
		},
	}
	serviceMapDoc = &operationDoc{
		params: []param{
			{name: "start", in: "query", desc: "RFC 3339; default an hour before end"},
			{name: "end", in: "query", desc: "RFC 3339; default now"},
		},
		responses: map[string]content{
			"200": {desc: "Nodes (services, and the databases, queues and hosts they call) and edges measured on the caller's side", schema: success(map[string]any{"type": "object", "properties": map[string]any{
				"nodes": arrayOf(map[string]any{"type": "object", "properties": map[string]any{
					"name": str, "type": map[string]any{"type": "string", "enum": []string{"service", "database", "queue", "external", "client"}},
					"requests": integer, "errors": integer, "latency": latencySchema,
				}}),
				"edges": arrayOf(map[string]any{"type": "object", "properties": map[string]any{
					"source": str, "target": str, "requests": integer, "errors": integer, "latency": latencySchema,
				}}),
			}})},
			"400": {desc: "Invalid time range, or too many calls in it"},
		},
	}
)

var (
	samplingRuleSchema = map[string]any{"type": "object", "description": "X-Ray's SamplingRule, with its field names", "properties": map[string]any{
		"RuleName": str, "RuleARN": str, "ResourceARN": str, "Priority": integer, "FixedRate": number, "ReservoirSize": integer,
		"ServiceName": str, "ServiceType": str, "Host": str, "HTTPMethod": str, "URLPath": str, "Version": integer,
		"Attributes": map[string]any{"type": "object", "additionalProperties": str},
	}}
	samplingRecordSchema = map[string]any{"type": "object", "properties": map[string]any{
		"SamplingRule": samplingRuleSchema, "CreatedAt": timestamp, "ModifiedAt": timestamp,
	}}
	samplingNameParam = []param{{name: "name", in: "path", required: true, desc: "RuleName"}}

	listSamplingRulesDoc = &operationDoc{
		responses: map[string]content{"200": {desc: "Rules by priority, then name", schema: success(arrayOf(samplingRecordSchema))}},
	}
	createSamplingRuleDoc = &operationDoc{
		request: &content{schema: samplingRuleSchema},
		responses: map[string]content{
			"201": {desc: "Created", schema: success(samplingRecordSchema)},
			"400": {desc: "Invalid rule (the error names the field), or over the rule limit"},
			"409": {desc: "A rule of this name exists"},
		},
	}
	samplingRuleDoc = &operationDoc{
		params:    samplingNameParam,
		responses: map[string]content{"200": {desc: "The rule", schema: success(samplingRecordSchema)}, "400": {desc: "Default cannot be deleted"}, "404": {desc: "No such rule"}},
	}
	updateSamplingRuleDoc = &operationDoc{
		params:  samplingNameParam,
		request: &content{schema: map[string]any{"type": "object", "description": "X-Ray's SamplingRuleUpdate: the fields to change", "properties": samplingRuleSchema["properties"]}},
		responses: map[string]content{
			"200": {desc: "Updated", schema: success(samplingRecordSchema)},
			"400": {desc: "Invalid value, or a field Default does not allow changing"},
			"404": {desc: "No such rule"},
		},
	}
	zipkinDoc = &operationDoc{
		request: &content{desc: "A JSON list of Zipkin v2 spans (traceId, id, parentId, name, kind, timestamp and duration in µs, localEndpoint, remoteEndpoint, annotations, tags, shared). gzip accepted."},
		responses: map[string]content{
			"202": {desc: "All spans stored"},
			"200": {desc: "Some spans stored; errors lists the refused ones by position (from 0)"},
			"400": {desc: "Not a JSON list, or no span could be stored"},
			"415": {desc: "Not JSON (proto3 is not accepted)"},
		},
	}
	xrayDoc = &operationDoc{
		request: &content{desc: "The X-Ray API's rest-json request; see the AWS X-Ray API reference"},
		responses: map[string]content{
			"200": {desc: "The X-Ray API's response"},
			"400": {desc: "InvalidRequestException (x-amzn-ErrorType header, {\"__type\", \"message\"})"},
		},
	}
)
