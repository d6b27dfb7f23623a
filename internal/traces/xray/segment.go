package xray

import "encoding/json"

// entity is a segment or subsegment document as X-Ray defines it. Fields
// whose shape varies (aws, cause, annotation values, metadata) stay raw
// until mapped.
type entity struct {
	Name         string                     `json:"name"`
	ID           string                     `json:"id"`
	TraceID      string                     `json:"trace_id"`
	ParentID     string                     `json:"parent_id"`
	Type         string                     `json:"type"`
	StartTime    json.Number                `json:"start_time"`
	EndTime      json.Number                `json:"end_time"`
	InProgress   bool                       `json:"in_progress"`
	Namespace    string                     `json:"namespace"`
	Origin       string                     `json:"origin"`
	User         string                     `json:"user"`
	ResourceARN  string                     `json:"resource_arn"`
	Service      map[string]json.RawMessage `json:"service"`
	HTTP         *httpData                  `json:"http"`
	AWS          map[string]json.RawMessage `json:"aws"`
	SQL          *sqlData                   `json:"sql"`
	Error        bool                       `json:"error"`
	Throttle     bool                       `json:"throttle"`
	Fault        bool                       `json:"fault"`
	Cause        json.RawMessage            `json:"cause"`
	Annotations  map[string]json.RawMessage `json:"annotations"`
	Metadata     map[string]json.RawMessage `json:"metadata"`
	PrecursorIDs []string                   `json:"precursor_ids"`
	Subsegments  []entity                   `json:"subsegments"`
}

type httpData struct {
	Request *struct {
		Method        string `json:"method"`
		URL           string `json:"url"`
		UserAgent     string `json:"user_agent"`
		ClientIP      string `json:"client_ip"`
		XForwardedFor bool   `json:"x_forwarded_for"`
		Traced        bool   `json:"traced"`
	} `json:"request"`
	Response *struct {
		Status        json.Number `json:"status"`
		ContentLength json.Number `json:"content_length"`
	} `json:"response"`
}

type sqlData struct {
	ConnectionString string `json:"connection_string"`
	URL              string `json:"url"`
	SanitizedQuery   string `json:"sanitized_query"`
	DatabaseType     string `json:"database_type"`
	DatabaseVersion  string `json:"database_version"`
	DriverVersion    string `json:"driver_version"`
	User             string `json:"user"`
	Preparation      string `json:"preparation"`
}

type causeData struct {
	WorkingDirectory string          `json:"working_directory"`
	Paths            []string        `json:"paths"`
	Exceptions       []exceptionData `json:"exceptions"`
}

type exceptionData struct {
	ID        string      `json:"id"`
	Message   string      `json:"message"`
	Type      string      `json:"type"`
	Remote    bool        `json:"remote"`
	Truncated json.Number `json:"truncated"`
	Skipped   json.Number `json:"skipped"`
	Cause     string      `json:"cause"`
	Stack     []struct {
		Path  string      `json:"path"`
		Line  json.Number `json:"line"`
		Label string      `json:"label"`
	} `json:"stack"`
}
