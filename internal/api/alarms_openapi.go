package api

// OpenAPI documentation of the alarm and notification routes.

var (
	boolean     = map[string]any{"type": "boolean"}
	stringList  = arrayOf(str)
	stateSchema = map[string]any{"type": "string", "enum": []string{"OK", "ALARM", "INSUFFICIENT_DATA"}}

	alarmSchema = map[string]any{"type": "object", "properties": map[string]any{
		"name": str, "description": str,
		"kind":          map[string]any{"type": "string", "enum": []string{"metric", "composite"}, "description": "Follows from rule when omitted"},
		"query":         map[string]any{"type": "string", "description": "PromQL returning one series; one datapoint per period (or use metric)"},
		"metric":        map[string]any{"type": "object", "description": "CloudWatch-style metric: the series metricName{namespace=…, dimensions…}; see docs/alarms.md for the PromQL of each statistic", "properties": map[string]any{"namespace": str, "metricName": str, "dimensions": map[string]any{"type": "object", "additionalProperties": str}, "statistic": map[string]any{"type": "string", "description": "SampleCount, Average, Sum, Minimum, Maximum or pNN(.NN)"}}},
		"periodSeconds": map[string]any{"type": "integer", "description": "10, 20, 30 or a multiple of 60"},
		"comparisonOperator": map[string]any{"type": "string", "enum": []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
			"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}},
		"threshold": number, "evaluationPeriods": integer, "datapointsToAlarm": integer,
		"treatMissingData":                 map[string]any{"type": "string", "enum": []string{"missing", "ignore", "breaching", "notBreaching"}},
		"evaluateLowSampleCountPercentile": map[string]any{"type": "string", "enum": []string{"evaluate", "ignore"}},
		"anomalyBand":                      map[string]any{"type": "object", "properties": map[string]any{"stdDevs": number, "min": number, "max": number}},
		"rule":                             map[string]any{"type": "string", "description": "Composite: ALARM(x), OK(x), INSUFFICIENT_DATA(x), TRUE, FALSE, AND, OR, NOT, parentheses"},
		"actionsEnabled":                   boolean, "alarmActions": stringList, "okActions": stringList, "insufficientDataActions": stringList,
		"repeatIntervalSeconds": integer,
		"flapping":              map[string]any{"type": "object", "properties": map[string]any{"maxTransitions": integer, "windowSeconds": integer}},
		"labels":                map[string]any{"type": "object", "additionalProperties": str},
	}}
	alarmStatusSchema = map[string]any{"allOf": []any{alarmSchema, map[string]any{"type": "object", "properties": map[string]any{
		"arn": str, "state": stateSchema, "stateReason": str, "stateReasonData": map[string]any{"type": "object"},
		"stateUpdatedAt": timestamp, "stateTransitionedAt": timestamp, "lastEvaluatedAt": timestamp,
		"evaluationError": str, "flapping": boolean, "mutedBy": str, "configurationUpdatedAt": timestamp, "expr": str,
	}}}}
	historyItemSchema = map[string]any{"type": "object", "properties": map[string]any{
		"alarmName": str, "alarmType": str, "timestamp": timestamp,
		"historyItemType": map[string]any{"type": "string", "enum": []string{"ConfigurationUpdate", "StateUpdate", "Action"}},
		"historySummary":  str, "historyData": map[string]any{"type": "object"},
	}}
	muteSchema = map[string]any{"type": "object", "required": []string{"endsAt", "reason"}, "properties": map[string]any{
		"id": str, "alarmPattern": map[string]any{"type": "string", "description": "Glob over alarm names (* ? [a-z]); empty matches all"},
		"labels": map[string]any{"type": "object", "additionalProperties": str}, "startsAt": timestamp, "endsAt": timestamp, "reason": str, "createdAt": timestamp,
	}}
	topicSchema = map[string]any{"type": "object", "properties": map[string]any{
		"name": str, "arn": str, "displayName": str,
		"groupWindowSeconds": map[string]any{"type": "integer", "description": "Hold notifications per subscription this long and deliver them as one message (0 to 3600)"},
		"subscriptions":      integer, "createdAt": timestamp,
	}}
	retrySchema = map[string]any{"type": "object", "description": "SNS healthyRetryPolicy", "properties": map[string]any{
		"numRetries": integer, "numNoDelayRetries": integer, "numMinDelayRetries": integer, "numMaxDelayRetries": integer,
		"minDelayTarget": integer, "maxDelayTarget": integer, "backoffFunction": map[string]any{"type": "string", "enum": []string{"linear", "arithmetic", "geometric", "exponential"}},
	}}
	subscriptionSchema = map[string]any{"type": "object", "required": []string{"protocol", "endpoint"}, "properties": map[string]any{
		"id": str, "arn": str, "topic": str,
		"protocol":           map[string]any{"type": "string", "enum": []string{"webhook", "slack", "email", "pagerduty", "log"}},
		"endpoint":           map[string]any{"type": "string", "description": "URL (webhook, slack), e-mail address, PagerDuty routing key, or log group"},
		"filterPolicy":       map[string]any{"type": "string", "description": "SNS filter policy, as JSON text"},
		"filterPolicyScope":  map[string]any{"type": "string", "enum": []string{"MessageAttributes", "MessageBody"}},
		"retryPolicy":        retrySchema,
		"rawMessageDelivery": boolean, "confirm": boolean,
		"status":    map[string]any{"type": "string", "enum": []string{"pending", "confirmed"}},
		"secret":    map[string]any{"type": "string", "description": "Webhook signing secret; in the create response only"},
		"createdAt": timestamp,
	}}
	deliverySchema = map[string]any{"type": "object", "properties": map[string]any{
		"messageId": str, "subscriptionId": str, "topic": str, "type": str, "subject": str,
		"state": map[string]any{"type": "string", "enum": []string{"pending", "delivered", "dead"}},
		"attempts": arrayOf(map[string]any{"type": "object", "properties": map[string]any{
			"attempt": integer, "at": timestamp, "statusCode": integer, "latencyMs": number, "error": str,
		}}),
		"nextAttemptAt": timestamp, "lastError": str, "createdAt": timestamp,
	}}

	alarmParam = []param{{name: "name", in: "path", required: true, desc: "Alarm name"}}
	topicParam = []param{{name: "name", in: "path", required: true, desc: "Topic name"}}
	notFound   = content{desc: "Not found"}
	badRequest = content{desc: "What is wrong with the request"}

	listAlarmsDoc = &operationDoc{
		params:    []param{{name: "prefix", in: "query", desc: "Alarm name prefix"}, {name: "state", in: "query", desc: "OK, ALARM or INSUFFICIENT_DATA"}, {name: "kind", in: "query", desc: "metric or composite"}},
		responses: map[string]content{"200": {desc: "Alarms with their state", schema: success(map[string]any{"type": "object", "properties": map[string]any{"alarms": arrayOf(alarmStatusSchema)}})}},
	}
	putAlarmDoc = &operationDoc{
		params:    alarmParam,
		request:   &content{schema: alarmSchema},
		responses: map[string]content{"200": {desc: "Updated; the state is kept", schema: success(alarmStatusSchema)}, "201": {desc: "Created in INSUFFICIENT_DATA", schema: success(alarmStatusSchema)}, "400": badRequest},
	}
	alarmDoc          = &operationDoc{params: alarmParam, responses: map[string]content{"200": {desc: "The alarm", schema: success(alarmStatusSchema)}, "404": notFound}}
	setAlarmStateDoc  = &operationDoc{params: alarmParam, request: &content{schema: map[string]any{"type": "object", "required": []string{"state", "reason"}, "properties": map[string]any{"state": stateSchema, "reason": str, "reasonData": map[string]any{"type": "object"}}}}, responses: map[string]content{"200": {desc: "The alarm in its new state", schema: success(alarmStatusSchema)}, "404": notFound}}
	alarmActionsDoc   = &operationDoc{params: alarmParam, request: &content{schema: map[string]any{"type": "object", "required": []string{"enabled"}, "properties": map[string]any{"enabled": boolean}}}, responses: map[string]content{"200": {desc: "The alarm", schema: success(alarmStatusSchema)}, "404": notFound}}
	historyParams     = []param{{name: "type", in: "query", desc: "ConfigurationUpdate, StateUpdate or Action"}, {name: "start", in: "query", desc: "RFC 3339 (default: 14 days ago)"}, {name: "end", in: "query", desc: "RFC 3339 (default: now)"}, {name: "limit", in: "query", desc: "1 to 10000 (default 100)"}}
	historyResponse   = map[string]content{"200": {desc: "History items, newest first", schema: success(map[string]any{"type": "object", "properties": map[string]any{"items": arrayOf(historyItemSchema)}})}}
	alarmHistoryDoc   = &operationDoc{params: append(append([]param{}, alarmParam...), historyParams...), responses: historyResponse}
	allHistoryDoc     = &operationDoc{params: historyParams, responses: historyResponse}
	queryHistoryDoc   = &operationDoc{request: &content{schema: map[string]any{"type": "object", "required": []string{"query"}, "properties": map[string]any{"query": map[string]any{"type": "string", "description": "Logs Insights; fields @timestamp, @message (the summary), @log (the alarm), alarmName, alarmType, historyItemType, historyData"}, "alarms": stringList, "start": timestamp, "end": timestamp}}}, responses: map[string]content{"200": {desc: "Rows", schema: success(map[string]any{"type": "object", "properties": map[string]any{"fields": stringList, "rows": arrayOf(map[string]any{"type": "array"}), "partial": boolean}})}, "400": badRequest}}
	listMutesDoc      = &operationDoc{responses: map[string]content{"200": {desc: "Mute windows that have not ended", schema: success(map[string]any{"type": "object", "properties": map[string]any{"muteWindows": arrayOf(muteSchema)}})}}}
	putMuteDoc        = &operationDoc{request: &content{schema: muteSchema}, responses: map[string]content{"201": {desc: "Created", schema: success(muteSchema)}, "400": badRequest}}
	deleteMuteDoc     = &operationDoc{params: []param{{name: "id", in: "path", required: true, desc: "Mute window id"}}, responses: map[string]content{"200": {desc: "Ended"}, "404": notFound}}
	listTopicsDoc     = &operationDoc{responses: map[string]content{"200": {desc: "Topics", schema: success(map[string]any{"type": "object", "properties": map[string]any{"topics": arrayOf(topicSchema)}})}}}
	putTopicDoc       = &operationDoc{params: topicParam, request: &content{schema: topicSchema}, responses: map[string]content{"200": {desc: "The topic (created or updated)", schema: success(topicSchema)}, "400": badRequest}}
	topicDoc          = &operationDoc{params: topicParam, responses: map[string]content{"200": {desc: "The topic", schema: success(topicSchema)}, "404": notFound}}
	publishDoc        = &operationDoc{params: topicParam, request: &content{schema: map[string]any{"type": "object", "required": []string{"message"}, "properties": map[string]any{"subject": str, "message": map[string]any{"type": "string", "description": "At most 256 KiB"}, "messageAttributes": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object", "properties": map[string]any{"dataType": map[string]any{"type": "string", "enum": []string{"String", "Number", "String.Array"}}, "stringValue": str}}}}}}, responses: map[string]content{"200": {desc: "Queued", schema: success(map[string]any{"type": "object", "properties": map[string]any{"messageId": str, "deliveries": integer}})}, "400": badRequest, "404": notFound}}
	listSubsDoc       = &operationDoc{params: topicParam, responses: map[string]content{"200": {desc: "Subscriptions, without secrets", schema: success(map[string]any{"type": "object", "properties": map[string]any{"subscriptions": arrayOf(subscriptionSchema)}})}, "404": notFound}}
	subscribeDoc      = &operationDoc{params: topicParam, request: &content{schema: subscriptionSchema}, responses: map[string]content{"201": {desc: "Created; carries the secret", schema: success(subscriptionSchema)}, "400": badRequest, "404": notFound}}
	subscriptionParam = []param{{name: "id", in: "path", required: true, desc: "Subscription id"}}
	subscriptionDoc   = &operationDoc{params: subscriptionParam, responses: map[string]content{"200": {desc: "The subscription", schema: success(subscriptionSchema)}, "404": notFound}}
	confirmDoc        = &operationDoc{params: []param{{name: "tenant", in: "query", required: true}, {name: "id", in: "query", required: true}, {name: "token", in: "query", required: true}}, responses: map[string]content{"200": {desc: "Confirmed"}, "400": {desc: "Wrong or expired token"}}}
	deliveriesDoc     = &operationDoc{params: []param{{name: "topic", in: "query"}, {name: "state", in: "query", desc: "pending, delivered or dead"}, {name: "messageId", in: "query"}, {name: "limit", in: "query", desc: "1 to 1000 (default 100)"}}, responses: map[string]content{"200": {desc: "Deliveries, newest first, with every attempt", schema: success(map[string]any{"type": "object", "properties": map[string]any{"deliveries": arrayOf(deliverySchema)}})}}}
	redriveDoc        = &operationDoc{request: &content{schema: map[string]any{"type": "object", "required": []string{"messageId", "subscriptionId"}, "properties": map[string]any{"messageId": str, "subscriptionId": str}}}, responses: map[string]content{"200": {desc: "Due again for one more attempt"}, "400": badRequest}}
)
