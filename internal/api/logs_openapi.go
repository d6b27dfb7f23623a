package api

// OpenAPI documentation of the logs routes.

var (
	str       = map[string]any{"type": "string"}
	integer   = map[string]any{"type": "integer"}
	timestamp = map[string]any{"type": "string", "format": "date-time"}

	logGroupSchema = map[string]any{"type": "object", "properties": map[string]any{
		"name":            str,
		"retentionInDays": map[string]any{"type": []string{"integer", "null"}, "description": "null: never expire"},
		"createdAt":       timestamp,
		"storedBytes":     integer,
		"records":         integer,
	}}
	logEventSchema = map[string]any{"type": "object", "properties": map[string]any{
		"timestamp": map[string]any{"type": "integer", "description": "Unix ms"}, "ingestionTime": map[string]any{"type": "integer", "description": "Unix ms"},
		"group": str, "stream": str, "message": str, "severity": str,
	}}
	logStatsSchema = map[string]any{"type": "object", "properties": map[string]any{
		"recordsScanned": integer, "bytesScanned": integer, "durationMs": integer,
	}}
	lokiPushDoc = &operationDoc{
		request: &content{mediaType: "application/x-protobuf", desc: "A Loki PushRequest, snappy block-compressed; or application/json {\"streams\":[{\"stream\":{labels},\"values\":[[\"<unix ns>\",\"<line>\",{structured metadata}]]}]}, optionally gzip. The log group is the stream's service_name label, else job, else the default group; the labels are the stream's identity and resource attributes."},
		responses: map[string]content{
			"204": {desc: "Every entry stored"},
			"400": {desc: "A malformed body (nothing stored), or some entries refused (the rest stored); the text says which", mediaType: "text/plain"},
			"413": {desc: "Over limits.max_request_body_bytes"},
			"429": {desc: "Over the tenant's log-record rate; Retry-After says when to retry"},
		},
	}
	lokiQueryDoc = &operationDoc{
		params: []param{
			{name: "query", in: "query", required: true, desc: "A LogQL log query: {selector} | pipeline"},
			{name: "start", in: "query", desc: "Unix ns, Unix s or RFC 3339 (default: end − since)"},
			{name: "end", in: "query", desc: "Unix ns, Unix s or RFC 3339 (default: now)"},
			{name: "since", in: "query", desc: "A duration (default 1h)"},
			{name: "limit", in: "query", desc: "Most lines, 1 to 10000 (default 100)"},
			{name: "direction", in: "query", desc: "backward (default, newest first) or forward"},
			{name: "step", in: "query", desc: "Metric queries: a duration or seconds (default: the range over 250 points, at least 1s)"},
		},
		responses: map[string]content{"200": {desc: "Loki's streams (log query) or matrix (metric query) result"}, "400": {desc: "A parse error with line and column, or an unsupported construct", mediaType: "text/plain"}},
	}
	lokiInstantDoc = &operationDoc{
		params:    []param{{name: "query", in: "query", required: true, desc: "A LogQL metric query"}, {name: "time", in: "query", desc: "Unix ns, Unix s or RFC 3339 (default: now)"}},
		responses: map[string]content{"200": {desc: "Loki's vector result"}, "400": {desc: "A parse error, or a log query (use query_range)", mediaType: "text/plain"}},
	}
	esDoc     = &operationDoc{responses: map[string]content{"200": {desc: "Elasticsearch's response shape"}}}
	esBulkDoc = &operationDoc{
		request: &content{mediaType: "application/x-ndjson", desc: "Action and document lines: {\"create\":{\"_index\":\"app-2026.11.22\"}} then the document. index and create are stored (the document mapped like an NDJSON line: @timestamp, message/log, level); update and delete are refused per item. gzip accepted."},
		responses: map[string]content{
			"200": {desc: "{took, errors, items:[{create:{_index,_id,status,result|error}}]}: a bad document or index fails its item only"},
			"400": {desc: "An action line that is not an action object: nothing is stored"},
			"429": {desc: "Over the tenant's log-record rate"},
		},
	}
	logGroupParam = []param{{name: "name", in: "path", required: true, desc: "Log group name (may contain '/')"}}

	ingestLogsDoc = &operationDoc{
		params: []param{
			{name: "group", in: "query", required: true, desc: "Log group; created on first write"},
			{name: "stream", in: "query", desc: "Log stream within the group (default: default)"},
		},
		request: &content{mediaType: "application/x-ndjson", desc: "One JSON object per line: time from @timestamp/timestamp/time (RFC 3339 or epoch s/ms/µs/ns), message from message/msg/@message, level from level/severity, every other field an attribute (nested objects flattened with dots). With Content-Type text/plain each line is one record stamped with the time it arrived. gzip accepted."},
		responses: map[string]content{
			"200": {desc: "Some or all lines stored; errors lists refused lines by number", schema: map[string]any{"type": "object", "properties": map[string]any{
				"accepted": integer, "rejected": integer,
				"errors": arrayOf(map[string]any{"type": "object", "properties": map[string]any{"line": integer, "reason": str, "error": str}}),
			}}},
			"400": {desc: "No line could be stored (same body), or a bad group"},
			"413": {desc: "Body over limits.max_request_body_bytes"},
			"429": {desc: "Over the tenant's log ingest rate; nothing stored; see Retry-After"},
		},
	}
	queryLogsDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "required": []string{"query"}, "properties": map[string]any{
			"query":     map[string]any{"type": "string", "description": "Logs Insights pipeline, e.g. fields @timestamp, @message | filter level = \"ERROR\" | sort @timestamp desc | limit 20"},
			"logGroups": arrayOf(str),
			"start":     map[string]any{"type": "string", "format": "date-time", "description": "Default: an hour before end"},
			"end":       map[string]any{"type": "string", "format": "date-time", "description": "Default: now"},
		}}},
		responses: map[string]content{
			"200": {desc: "The result; status partial when a budget stopped the query (partialReason says which)", schema: map[string]any{"type": "object", "properties": map[string]any{
				"status": map[string]any{"type": "string", "enum": []string{"complete", "partial"}}, "partialReason": str,
				"fields": arrayOf(str), "rows": arrayOf(map[string]any{"type": "object"}), "stats": logStatsSchema,
			}}},
			"400": {desc: "Invalid query (the error gives line and column) or time range"},
			"404": {desc: "A named log group does not exist"},
		},
	}
	filterLogsDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "properties": map[string]any{
			"filterPattern": map[string]any{"type": "string", "description": "CloudWatch filter pattern; empty matches everything"},
			"logGroups":     arrayOf(str),
			"start":         timestamp, "end": timestamp,
			"limit":     map[string]any{"type": "integer", "maximum": 10000, "default": 10000},
			"nextToken": str,
		}}},
		responses: map[string]content{
			"200": {desc: "Matching events, oldest first; nextToken when more remain", schema: map[string]any{"type": "object", "properties": map[string]any{
				"status": str, "events": arrayOf(logEventSchema), "nextToken": str, "stats": logStatsSchema,
			}}},
			"400": {desc: "Invalid filter pattern, limit, token or time range"},
		},
	}
	tailLogsDoc = &operationDoc{
		params: []param{
			{name: "group", in: "query", desc: "Log group(s) to follow, repeated or comma-separated; default all", array: true},
			{name: "filterPattern", in: "query", desc: "CloudWatch filter pattern; default everything"},
		},
		responses: map[string]content{
			"200": {desc: "text/event-stream: an event 'log' per record (data: a log event object) and 'dropped' ({\"missed\": n}) when the client fell behind", mediaType: "text/event-stream", schema: str},
		},
	}
	listLogGroupsDoc = &operationDoc{
		params:    []param{{name: "prefix", in: "query", desc: "Only groups whose name starts with this"}},
		responses: map[string]content{"200": {desc: "Log groups by name", schema: success(arrayOf(logGroupSchema))}},
	}
	createLogGroupDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "required": []string{"name"}, "properties": map[string]any{
			"name":            map[string]any{"type": "string", "pattern": "^[.\\-_/#A-Za-z0-9]{1,512}$"},
			"retentionInDays": map[string]any{"type": []string{"integer", "null"}, "enum": []any{nil, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}},
		}}},
		responses: map[string]content{"201": {desc: "Created", schema: success(logGroupSchema)}, "409": {desc: "The group exists"}},
	}
	logGroupDoc = &operationDoc{
		params:    logGroupParam,
		responses: map[string]content{"200": {desc: "The group", schema: success(logGroupSchema)}, "404": {desc: "No such group"}},
	}
	putLogGroupDoc = &operationDoc{
		params: logGroupParam,
		request: &content{schema: map[string]any{"type": "object", "properties": map[string]any{
			"retentionInDays": map[string]any{"type": []string{"integer", "null"}, "description": "A CloudWatch retention value, or null to never expire"},
		}}},
		responses: map[string]content{"200": {desc: "Updated", schema: success(logGroupSchema)}, "201": {desc: "Created", schema: success(logGroupSchema)}},
	}
	deleteLogGroupDoc = &operationDoc{
		params:    logGroupParam,
		responses: map[string]content{"200": {desc: "Deleted with all its records"}, "404": {desc: "No such group"}},
	}
)
