package xray

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// segmentResourceAWSKeys are the keys of a segment's aws block that
// describe its environment; segmentHome maps them to resource attributes.
var segmentResourceAWSKeys = map[string]bool{
	"ec2": true, "ecs": true, "eks": true, "elastic_beanstalk": true, "xray": true, "cloudwatch_logs": true,
}

// spanAttributes maps a segment's or subsegment's own fields (not the
// resource, not cause) to span attributes.
func spanAttributes(e *entity, kind int8, isSegment, orphan bool) ([]eventstore.Attr, error) {
	a := make(attrs, 0, 16)
	a.str("aws.xray.namespace", e.Namespace)
	if !isSegment {
		a.str("aws.xray.origin", e.Origin)
		a.str("cloud.resource_id", e.ResourceARN)
	}
	a.str("enduser.id", e.User)

	if h := e.HTTP; h != nil {
		if q := h.Request; q != nil {
			a.str("http.request.method", q.Method)
			a.str("url.full", q.URL)
			a.str("user_agent.original", q.UserAgent)
			a.str("client.address", q.ClientIP)
			a.flag("aws.xray.http.x_forwarded_for", q.XForwardedFor)
			a.flag("aws.xray.http.traced", q.Traced)
			if kind == kindClient && q.URL != "" {
				if u, err := url.Parse(q.URL); err == nil && u.Hostname() != "" {
					a.str("server.address", u.Hostname())
					a.number("server.port", json.Number(u.Port()))
				}
			}
		}
		if p := h.Response; p != nil {
			a.number("http.response.status_code", p.Status)
			a.number("http.response.body.size", p.ContentLength)
		}
	}

	var operation string
	for _, k := range sortedKeys(e.AWS) {
		if isSegment && segmentResourceAWSKeys[k] {
			continue
		}
		raw := e.AWS[k]
		if k == "operation" {
			if v, ok := scalar(raw); ok {
				operation = v.String()
			}
		}
		if k == "account_id" {
			if v, ok := scalar(raw); ok { // account ids are text, even if sent as numbers
				a.str("aws.account_id", v.String())
			}
			continue
		}
		a.flatten("aws."+k, raw)
	}
	if isSegment {
		// The sampling rule that chose this request is per segment, not per resource.
		if raw, ok := e.AWS["xray"]; ok {
			var b struct {
				SamplingRuleName string `json:"sampling_rule_name"`
			}
			if json.Unmarshal(raw, &b) == nil {
				a.str("aws.xray.sampling_rule_name", b.SamplingRuleName)
			}
		}
	}
	switch e.Namespace {
	case "aws":
		a.str("rpc.system", "aws-api")
		a.str("rpc.service", e.Name)
		a.str("rpc.method", operation)
		a.str("peer.service", e.Name)
	case "remote":
		a.str("peer.service", e.Name)
	}

	if q := e.SQL; q != nil {
		a.str("db.system", strings.ToLower(q.DatabaseType))
		a.str("db.statement", q.SanitizedQuery)
		a.str("db.user", q.User)
		a.str("db.connection_string", withoutPassword(orElse(q.URL, q.ConnectionString)))
		a.str("aws.xray.sql.database_version", q.DatabaseVersion)
		a.str("aws.xray.sql.driver_version", q.DriverVersion)
		a.str("aws.xray.sql.preparation", q.Preparation)
		if !a.has("peer.service") {
			a.str("peer.service", e.Name)
		}
	}

	if len(e.Annotations) > 0 {
		keys, dropped := make([]string, 0, len(e.Annotations)), 0
		for _, k := range sortedKeys(e.Annotations) {
			v, ok := scalar(e.Annotations[k])
			if !ok || !validAnnotationKey(k) {
				// X-Ray drops annotations it cannot index and keeps the segment.
				dropped++
				continue
			}
			a.value(k, v)
			keys = append(keys, k)
		}
		if len(keys) > 0 {
			a.str("aws.xray.annotations", jsonStrings(keys))
		}
		if dropped > 0 {
			a.value("aws.xray.annotations_dropped", eventstore.IntValue(int64(dropped)))
		}
	}
	for _, ns := range sortedKeys(e.Metadata) {
		if raw := bytes.TrimSpace(e.Metadata[ns]); len(raw) > 0 && string(raw) != "null" {
			a.str("aws.xray.metadata."+ns, jsonText(raw))
		}
	}

	a.flag("aws.xray.error", e.Error)
	a.flag("aws.xray.throttle", e.Throttle)
	a.flag("aws.xray.fault", e.Fault)
	if len(e.PrecursorIDs) > 0 {
		for _, id := range e.PrecursorIDs {
			if _, err := ParseSegmentID(id); err != nil {
				return nil, fmt.Errorf("precursor_ids %v", err)
			}
		}
		a.str("aws.xray.precursor_ids", jsonStrings(e.PrecursorIDs))
	}
	a.flag("aws.xray.in_progress", e.InProgress)
	a.flag("aws.xray.standalone", orphan)
	return a, nil
}

// validAnnotationKey: X-Ray indexes annotation keys of letters, digits and
// underscores only.
func validAnnotationKey(k string) bool {
	if k == "" || len(k) > 500 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// passwordPair matches password=… in key=value connection strings and URL
// queries (ADO.NET, JDBC, libpq, ODBC spellings).
var passwordPair = regexp.MustCompile(`(?i)(^|[;&?\s])\s*(password|pwd)\s*=\s*('[^']*'|"[^"]*"|[^;&\s]*)[;&]?`)

// withoutPassword removes a password from a connection string or database
// URL: the password of user:password@ and password=/pwd= pairs.
func withoutPassword(s string) string {
	if s == "" {
		return s
	}
	if passwordPair.MatchString(s) {
		s = passwordPair.ReplaceAllString(s, "$1")
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	}
	end := len(s)
	if i := strings.IndexByte(s[start:], '?'); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndexByte(s[start:end], '@'); at >= 0 {
		// user:password@host; key=value strings, whose pairs are separated
		// by ; or spaces, were handled above.
		userinfo := s[start : start+at]
		if c := strings.IndexByte(userinfo, ':'); c >= 0 && !strings.ContainsAny(userinfo, "; \t") {
			s = s[:start+c] + s[start+at:]
		}
	}
	return s
}
