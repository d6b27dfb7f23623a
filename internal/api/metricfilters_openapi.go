package api

// OpenAPI documentation of the metric filter routes.

var (
	transformationSchema = map[string]any{"type": "object", "required": []string{"metricName", "metricNamespace", "metricValue"}, "properties": map[string]any{
		"metricName":      map[string]any{"type": "string", "maxLength": 255, "description": "CloudWatch's rule: no ':', '*' or '$'. The series' __name__ is this name with every character outside [a-zA-Z0-9_] made '_' (and '_' before a leading digit)"},
		"metricNamespace": map[string]any{"type": "string", "maxLength": 255, "description": "The series' namespace label; no ':', '*' or '$'"},
		"metricValue":     map[string]any{"type": "string", "maxLength": 100, "description": "What a matching record adds: a number, $.path (JSON patterns) or $name (space-delimited patterns); a record whose field is missing or not a number adds nothing"},
		"defaultValue":    map[string]any{"type": "number", "description": "Added for each record of the group that does not match; not with dimensions"},
		"dimensions":      map[string]any{"type": "object", "additionalProperties": str, "maxProperties": 3, "description": "Dimension name → $.path or $name; each becomes a label (name made a Prometheus label name as metricName is)"},
		"unit":            map[string]any{"type": "string", "description": "A CloudWatch unit (Count, Milliseconds, Bytes, …); stored, values are not scaled"},
	}}
	metricFilterSchema = map[string]any{"type": "object", "required": []string{"logGroupName", "filterPattern", "metricTransformations"}, "properties": map[string]any{
		"filterName": str, "logGroupName": str,
		"filterPattern":         map[string]any{"type": "string", "maxLength": 1024, "description": "A CloudWatch filter pattern; empty matches every record"},
		"metricTransformations": map[string]any{"type": "array", "items": transformationSchema, "minItems": 1, "maxItems": 1},
		"creationTime":          map[string]any{"type": "integer", "description": "Unix ms; set by the server", "readOnly": true},
		"selector":              map[string]any{"type": "string", "description": "The PromQL selector of the filter's series (each dimension adds a label)", "readOnly": true},
	}}
	metricFilterMatchSchema = map[string]any{"type": "object", "properties": map[string]any{
		"eventNumber": integer, "eventMessage": str,
		"extractedValues": map[string]any{"type": "object", "additionalProperties": str, "description": "Fields of a space-delimited pattern ($name) and the fields the transformation reads"},
		"metricValue":     map[string]any{"type": "number", "description": "With a transformation: what the message adds (absent when it adds nothing)"},
		"dimensions":      map[string]any{"type": "object", "additionalProperties": str, "description": "With a transformation: the labels the message's dimensions take"},
	}}
	metricFilterParam = param{name: "name", in: "path", required: true, desc: "Filter name"}

	listMetricFiltersDoc = &operationDoc{
		params:    []param{{name: "group", in: "query", desc: "Log group (default: every group)"}},
		responses: map[string]content{"200": {desc: "Filters by log group and name", schema: success(map[string]any{"type": "object", "properties": map[string]any{"metricFilters": arrayOf(metricFilterSchema)}})}},
	}
	putMetricFilterDoc = &operationDoc{
		params:    []param{metricFilterParam},
		request:   &content{schema: metricFilterSchema, desc: "CloudWatch's PutMetricFilter fields; filterName, if given, must equal the path's. Replaces the group's filter of that name. At most 100 filters per log group"},
		responses: map[string]content{"200": {desc: "Saved; records stored from now on feed it", schema: success(metricFilterSchema)}, "400": badRequest},
	}
	deleteMetricFilterDoc = &operationDoc{
		params:    []param{metricFilterParam, {name: "group", in: "query", required: true, desc: "Log group"}},
		responses: map[string]content{"200": {desc: "Deleted; its series keep their samples"}, "400": badRequest, "404": notFound},
	}
	testMetricFilterDoc = &operationDoc{
		request: &content{schema: map[string]any{"type": "object", "required": []string{"filterPattern", "logEventMessages"}, "properties": map[string]any{
			"filterPattern":         str,
			"logEventMessages":      map[string]any{"type": "array", "items": str, "minItems": 1, "maxItems": 50},
			"metricTransformations": map[string]any{"type": "array", "items": transformationSchema, "maxItems": 1, "description": "Optional (Mirador's addition): validate it and show what each match adds"},
		}}},
		responses: map[string]content{"200": {desc: "The messages that match (CloudWatch's TestMetricFilter)", schema: success(map[string]any{"type": "object", "properties": map[string]any{"matches": arrayOf(metricFilterMatchSchema)}})}, "400": badRequest},
	}
)
