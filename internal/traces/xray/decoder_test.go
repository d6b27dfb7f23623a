package xray

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

var observed = time.Unix(1480615300, 0)

func TestDecodeSegmentWithNestedSubsegments(t *testing.T) {
	recs, err := NewDecoder().Decode(readTestdata(t, "segment.json"), observed)
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		name, id, parent string
		kind             int8
		start, duration  int64
		status           int8
		message          string
	}
	want := []span{
		{"checkout", "70de5b6f19ff9a0a", "", kindServer, 1480615200_010123000, 80_333_000, statusError, "payment backend unavailable"},
		{"DynamoDB", "0f910026178b71eb", "70de5b6f19ff9a0a", kindClient, 1480615200_011000000, 20_000_000, 0, ""},
		{"payments.example.com", "e8d7c6b5a4938271", "70de5b6f19ff9a0a", kindClient, 1480615200_032000000, 53_000_000, statusError, "fault"},
		{"connect", "1a2b3c4d5e6f7081", "e8d7c6b5a4938271", kindInternal, 1480615200_032100000, 1_400_000, 0, ""},
		{"orders@db.internal", "5c6d7e8f90a1b2c3", "70de5b6f19ff9a0a", kindClient, 1480615200_086000000, 3_000_000, 0, ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	trace := traceID(t, "1-58406520-a006649127e371903a2de979")
	for i, w := range want {
		r := recs[i]
		var parent [8]byte
		if w.parent != "" {
			parent = spanID(t, w.parent)
		}
		if r.Name != w.name || r.SpanID != spanID(t, w.id) || r.ParentSpanID != parent || r.Kind != w.kind ||
			r.Time != w.start || r.Duration != w.duration || r.StatusCode != w.status || r.StatusMessage != w.message {
			t.Errorf("record %d = {%s %x parent %x kind %d start %d dur %d status %d %q}, want %+v",
				i, r.Name, r.SpanID, r.ParentSpanID, r.Kind, r.Time, r.Duration, r.StatusCode, r.StatusMessage, w)
		}
		if r.TraceID != trace || r.ObservedTime != observed.UnixNano() {
			t.Errorf("record %d: trace %x observed %d", i, r.TraceID, r.ObservedTime)
		}
		// Subsegments are spans of the segment's service.
		if r.Group != "checkout" || r.Stream != "checkout" || &r.Resource[0] != &recs[0].Resource[0] {
			t.Errorf("record %d: group %q stream %q, resource not the segment's", i, r.Group, r.Stream)
		}
		if r.Body != "" || r.SeverityText != "" {
			t.Errorf("record %d has a body or severity", i)
		}
	}

	wantAttrs(t, "resource", recs[0].Resource, map[string]any{
		"service.name":            "checkout",
		"service.version":         "1.4.2",
		"process.runtime.name":    "gc",
		"process.runtime.version": "go1.26",
		"cloud.provider":          "aws",
		"cloud.platform":          "aws_ec2",
		"aws.xray.origin":         "AWS::EC2::Instance",
		"cloud.account.id":        "123456789012",
		"host.id":                 "i-0b5a4678fc325bg98",
		"host.type":               "t3.micro",
		"host.image.id":           "ami-0123456789abcdef0",
		"cloud.availability_zone": "us-west-2c",
		"telemetry.sdk.name":      "X-Ray for Go",
		"telemetry.sdk.version":   "1.8.5",
		"aws.log.group.names":     `["/app/checkout"]`,
		"aws.log.group.arns":      `["arn:aws:logs:us-west-2:123456789012:log-group:/app/checkout"]`,
	})
	wantAttrs(t, "segment", recs[0].Attributes, map[string]any{
		"enduser.id":                       "alice",
		"http.request.method":              "POST",
		"url.full":                         "https://shop.example.com/cart/checkout",
		"user_agent.original":              "curl/8.5.0",
		"client.address":                   "78.255.233.48",
		"aws.xray.http.x_forwarded_for":    true,
		"http.response.status_code":        500,
		"http.response.body.size":          87,
		"server.address":                   nil, // server spans don't name a peer
		"aws.account_id":                   "123456789012",
		"aws.xray.sampling_rule_name":      "checkout-rule",
		"aws.ec2.instance_id":              nil, // resource, not span
		"customer_tier":                    "gold",
		"cart_items":                       3,
		"cart_total":                       59.95,
		"first_order":                      false,
		"aws.xray.annotations":             `["cart_items","cart_total","customer_tier","first_order"]`,
		"aws.xray.metadata.default":        `{"cart":{"items":[1,2,3]}}`,
		"aws.xray.metadata.debug":          `{"build":"abc123"}`,
		"aws.xray.fault":                   true,
		"aws.xray.error":                   nil,
		"aws.xray.precursor_ids":           `["0f910026178b71eb"]`,
		"aws.xray.cause.working_directory": "/srv/checkout",
		"aws.xray.cause.paths":             `["/srv/checkout/main.go"]`,
		"aws.xray.in_progress":             nil,
	})
	wantAttrs(t, "aws subsegment", recs[1].Attributes, map[string]any{
		"rpc.system":                "aws-api",
		"rpc.service":               "DynamoDB",
		"rpc.method":                "GetItem",
		"peer.service":              "DynamoDB",
		"aws.operation":             "GetItem",
		"aws.region":                "us-west-2",
		"aws.request_id":            "3AIENM5J4ELQ3SPODHKBIRVIC3VV4KQNSO5AEMVJF66Q9ASUAAJG",
		"aws.table_name":            "carts",
		"aws.retries":               0,
		"aws.resource_names":        `["carts"]`,
		"aws.xray.namespace":        "aws",
		"http.response.status_code": 200,
	})
	wantAttrs(t, "remote subsegment", recs[2].Attributes, map[string]any{
		"peer.service":              "payments.example.com",
		"server.address":            "payments.example.com",
		"server.port":               8443,
		"url.full":                  "https://payments.example.com:8443/v1/charge",
		"aws.xray.http.traced":      true,
		"http.response.status_code": 503,
		"rpc.system":                nil,
	})
	wantAttrs(t, "sql subsegment", recs[4].Attributes, map[string]any{
		"db.system":                     "postgresql",
		"db.statement":                  "SELECT * FROM orders WHERE id = $1",
		"db.user":                       "orders",
		"db.connection_string":          "postgres://orders@db.internal:5432/orders?sslmode=require",
		"peer.service":                  "orders@db.internal",
		"aws.xray.sql.database_version": "15.4",
		"aws.xray.sql.driver_version":   "pgx/v5",
		"aws.xray.sql.preparation":      "statement",
	})
	if len(recs[3].Attributes) != 0 {
		t.Errorf("plain subsegment has attributes %v", recs[3].Attributes)
	}

	ev := recs[0].Events
	if len(ev) != 2 {
		t.Fatalf("segment events = %d, want 2 exceptions", len(ev))
	}
	for _, e := range ev {
		if e.Name != "exception" || e.Time != recs[0].Time {
			t.Errorf("event %q at %d, want exception at the span start", e.Name, e.Time)
		}
	}
	wantAttrs(t, "exception 0", ev[0].Attributes, map[string]any{
		"exception.type":       "*errors.errorString",
		"exception.message":    "payment backend unavailable",
		"exception.id":         "3e9e11e3ab3fba60",
		"exception.stacktrace": "main.charge (/srv/checkout/pay.go:42)\nmain.handler (/srv/checkout/main.go:17)",
	})
	wantAttrs(t, "exception 1", ev[1].Attributes, map[string]any{
		"exception.type":            "*net.OpError",
		"aws.xray.exception.remote": true,
		"aws.xray.exception.cause":  "3e9e11e3ab3fba60",
		"exception.stacktrace":      nil,
	})
}

func segmentDoc(id, name string, extra string) string {
	return fmt.Sprintf(`{"trace_id":"1-58406520-a006649127e371903a2de979","id":%q,"name":%q,"start_time":1480615200.1,"end_time":1480615200.2%s}`, id, name, extra)
}

func subsegmentDoc(id, parent, name string, extra string) string {
	return fmt.Sprintf(`{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","parent_id":%q,"id":%q,"name":%q,"start_time":1480615200.1,"end_time":1480615200.2%s}`, parent, id, name, extra)
}

func TestDecodeStandaloneSubsegments(t *testing.T) {
	d := NewDecoder()
	decode := func(doc string) []eventstore.Record {
		t.Helper()
		recs, err := d.Decode([]byte(doc), observed)
		if err != nil {
			t.Fatalf("Decode(%s): %v", doc, err)
		}
		return recs
	}

	// Streamed before its segment: no service is known yet.
	orphan := decode(subsegmentDoc("aaaaaaaaaaaaaaa1", "5555555555555555", "early",
		`,"subsegments":[{"id":"aaaaaaaaaaaaaaa2","name":"nested","start_time":1480615200.1,"end_time":1480615200.15}]`))
	for _, r := range orphan {
		if r.Group != UnknownService {
			t.Errorf("orphan %s: group %q, want %q", r.Name, r.Group, UnknownService)
		}
		wantAttrs(t, "orphan "+r.Name, r.Attributes, map[string]any{"aws.xray.standalone": true})
		wantAttrs(t, "orphan "+r.Name, r.Resource, map[string]any{"service.name": UnknownService})
	}
	if orphan[0].ParentSpanID != spanID(t, "5555555555555555") || orphan[1].ParentSpanID != spanID(t, "aaaaaaaaaaaaaaa1") {
		t.Errorf("orphan parents %x %x", orphan[0].ParentSpanID, orphan[1].ParentSpanID)
	}
	if orphan[0].Kind != kindInternal {
		t.Errorf("local standalone subsegment kind %d, want internal", orphan[0].Kind)
	}

	// The segment arrives (in progress), with a nested subsegment.
	decode(segmentDoc("1111111111111111", "api", `,"end_time":null,"in_progress":true,"service":{"version":"2.0"},"subsegments":[{"id":"2222222222222222","name":"handler","start_time":1480615200.1,"in_progress":true}]`))

	// Standalone subsegments of the segment, of its nested subsegment, and
	// of another standalone subsegment all land in its service.
	for _, tc := range []struct{ id, parent, ns string }{
		{"3333333333333333", "1111111111111111", "remote"},
		{"4444444444444444", "2222222222222222", "aws"},
		{"6666666666666666", "4444444444444444", ""},
	} {
		recs := decode(subsegmentDoc(tc.id, tc.parent, "call-"+tc.id[:1], fmt.Sprintf(`,"namespace":%q`, tc.ns)))
		r := recs[0]
		if r.Group != "api" || r.ParentSpanID != spanID(t, tc.parent) {
			t.Errorf("subsegment %s: group %q parent %x, want api under %s", tc.id, r.Group, r.ParentSpanID, tc.parent)
		}
		wantAttrs(t, "subsegment "+tc.id, r.Resource, map[string]any{"service.name": "api", "service.version": "2.0"})
		wantAttrs(t, "subsegment "+tc.id, r.Attributes, map[string]any{"aws.xray.standalone": nil})
		if want := kindOf(tc.ns); r.Kind != want {
			t.Errorf("subsegment %s kind %d, want %d", tc.id, r.Kind, want)
		}
	}

	// The same ids in another trace are not the same spans.
	other := strings.Replace(subsegmentDoc("7777777777777777", "1111111111111111", "x", ""), "a006649127e371903a2de979", "b006649127e371903a2de979", 1)
	if r := decode(other)[0]; r.Group != UnknownService {
		t.Errorf("subsegment of another trace resolved to %q", r.Group)
	}
}

func TestDecodeInProgressThenComplete(t *testing.T) {
	d := NewDecoder()
	inProgress, err := d.Decode([]byte(`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"checkout","start_time":1480615200.010,"in_progress":true}`), observed)
	if err != nil {
		t.Fatal(err)
	}
	complete, err := d.Decode([]byte(segmentDoc("70de5b6f19ff9a0a", "checkout", "")), observed.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if r := inProgress[0]; r.Duration != 0 || r.Time != 1480615200_010000000 {
		t.Errorf("in-progress span: start %d duration %d, want duration 0", r.Time, r.Duration)
	}
	wantAttrs(t, "in progress", inProgress[0].Attributes, map[string]any{"aws.xray.in_progress": true})
	wantAttrs(t, "complete", complete[0].Attributes, map[string]any{"aws.xray.in_progress": nil})
	if r := complete[0]; r.Duration != 100_000_000 || r.SpanID != inProgress[0].SpanID || r.ObservedTime <= inProgress[0].ObservedTime {
		t.Errorf("complete span: duration %d, same id %v, observed later %v", r.Duration, r.SpanID == inProgress[0].SpanID, r.ObservedTime > inProgress[0].ObservedTime)
	}
}

func TestDecodeStatusAndCause(t *testing.T) {
	for _, tc := range []struct {
		name       string
		extra      string
		status     int8
		message    string
		events     int
		wantAttrs  map[string]any
		wantErrSub string
	}{
		{name: "ok", extra: ``, status: 0},
		{name: "throttle alone is not an error status", extra: `,"throttle":true`, status: 0,
			wantAttrs: map[string]any{"aws.xray.throttle": true}},
		{name: "error without exceptions", extra: `,"error":true,"throttle":true,"http":{"response":{"status":429}}`, status: statusError, message: "error",
			wantAttrs: map[string]any{"aws.xray.error": true, "aws.xray.throttle": true, "http.response.status_code": 429}},
		{name: "fault without exceptions", extra: `,"fault":true,"error":true`, status: statusError, message: "fault"},
		{name: "cause id", extra: `,"fault":true,"cause":"3e9e11e3ab3fba60"`, status: statusError, message: "fault",
			wantAttrs: map[string]any{"aws.xray.cause_id": "3e9e11e3ab3fba60"}},
		{name: "exceptions", extra: `,"error":true,"cause":{"exceptions":[{"message":"","type":"A"},{"message":"second","type":"B","truncated":2,"skipped":1,"stack":[{"label":"f"},{"path":"p.go"}]}]}`,
			status: statusError, message: "second", events: 2},
		{name: "exceptions without a flag keep status unset", extra: `,"cause":{"exceptions":[{"message":"handled"}]}`, status: 0, events: 1},
		{name: "bad cause id", extra: `,"cause":"xyz"`, wantErrSub: `cause: exception id "xyz": want 16 hex digits`},
		{name: "bad cause type", extra: `,"cause":42`, wantErrSub: "cause: want an exception id (16 hex digits) or an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := NewDecoder().Decode([]byte(segmentDoc("70de5b6f19ff9a0a", "svc", tc.extra)), observed)
			if tc.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
					t.Fatalf("error = %v, want %q", err, tc.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := recs[0]
			if r.StatusCode != tc.status || r.StatusMessage != tc.message || len(r.Events) != tc.events {
				t.Errorf("status %d %q, %d events; want %d %q, %d", r.StatusCode, r.StatusMessage, len(r.Events), tc.status, tc.message, tc.events)
			}
			wantAttrs(t, tc.name, r.Attributes, tc.wantAttrs)
			if tc.name == "exceptions" {
				wantAttrs(t, "exception", r.Events[1].Attributes, map[string]any{
					"exception.stacktrace":         "f\n(p.go)",
					"aws.xray.exception.truncated": 2,
					"aws.xray.exception.skipped":   1,
				})
			}
		})
	}
}

func TestDecodeAnnotations(t *testing.T) {
	recs, err := NewDecoder().Decode([]byte(segmentDoc("70de5b6f19ff9a0a", "svc",
		`,"annotations":{"s":"v","i":-7,"big":12345678901234567890,"f":1.5,"b":true,"bad-key":"x","with space":1,"obj":{"a":1},"nul":null}`)), observed)
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs(t, "annotations", recs[0].Attributes, map[string]any{
		"s": "v", "i": -7, "big": 1.2345678901234567e19, "f": 1.5, "b": true,
		"bad-key": nil, "with space": nil, "obj": nil, "nul": nil,
		"aws.xray.annotations":         `["b","big","f","i","s"]`,
		"aws.xray.annotations_dropped": 4,
	})
}

func TestDecodeResourceBlocks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		want  map[string]any
		strm  string
	}{
		{name: "ecs", extra: `,"origin":"AWS::ECS::Container","aws":{"ecs":{"container":"ip-10-0-0-1","container_id":"abc123","container_arn":"arn:aws:ecs:us-east-1:1:container/x"}}`,
			want: map[string]any{"cloud.platform": "aws_ecs", "container.name": "ip-10-0-0-1", "container.id": "abc123", "aws.ecs.container.arn": "arn:aws:ecs:us-east-1:1:container/x"},
			strm: "svc/abc123"},
		{name: "eks without origin", extra: `,"aws":{"eks":{"pod":"svc-7d9f","cluster_name":"prod","container_id":"c1"}}`,
			want: map[string]any{"cloud.platform": "aws_eks", "cloud.provider": "aws", "k8s.pod.name": "svc-7d9f", "k8s.cluster.name": "prod", "container.id": "c1"},
			strm: "svc/svc-7d9f/c1"},
		{name: "beanstalk", extra: `,"origin":"AWS::ElasticBeanstalk::Environment","aws":{"elastic_beanstalk":{"environment_name":"prod-env","version_label":"v7","deployment_id":3}}`,
			want: map[string]any{"cloud.platform": "aws_elastic_beanstalk", "service.namespace": "prod-env", "service.version": "v7", "service.instance.id": "3"},
			strm: "prod-env/svc/3"},
		{name: "lambda origin", extra: `,"origin":"AWS::Lambda::Function","resource_arn":"arn:aws:lambda:us-east-1:1:function:f"`,
			want: map[string]any{"cloud.platform": "aws_lambda", "cloud.resource_id": "arn:aws:lambda:us-east-1:1:function:f"},
			strm: "svc"},
		{name: "unknown origin", extra: `,"origin":"AWS::Custom::Thing","aws":{"xray":{"auto_instrumentation":true}}`,
			want: map[string]any{"cloud.provider": "aws", "cloud.platform": nil, "aws.xray.origin": "AWS::Custom::Thing", "aws.xray.auto_instrumentation": true},
			strm: "svc"},
		{name: "no aws", extra: `,"service":{"version":"1"}`,
			want: map[string]any{"cloud.provider": nil, "service.version": "1", "service.name": "svc"},
			strm: "svc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := NewDecoder().Decode([]byte(segmentDoc("70de5b6f19ff9a0a", "svc", tc.extra)), observed)
			if err != nil {
				t.Fatal(err)
			}
			wantAttrs(t, tc.name, recs[0].Resource, tc.want)
			if recs[0].Stream != tc.strm {
				t.Errorf("stream %q, want %q", recs[0].Stream, tc.strm)
			}
		})
	}
}

func TestDecodeArrayOfSubsegments(t *testing.T) {
	d := NewDecoder()
	doc := "[" + subsegmentDoc("aaaaaaaaaaaaaaa1", "5555555555555555", "a", "") + "," + subsegmentDoc("aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", "b", "") + "]"
	recs, err := d.Decode([]byte(doc), observed)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Name != "a" || recs[1].Name != "b" {
		t.Fatalf("got %d records", len(recs))
	}
}

func TestWithoutPassword(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://orders:s3cret@db:5432/orders?sslmode=require":    "postgres://orders@db:5432/orders?sslmode=require",
		"postgres://orders@db:5432/orders":                           "postgres://orders@db:5432/orders",
		"db.internal:5432/orders":                                    "db.internal:5432/orders",
		"user:p@ss:w/rd@tcp(db:3306)/shop":                           "user@tcp(db:3306)/shop",
		"Server=db;Database=shop;User Id=sa;Password=p@ss;Encrypt=1": "Server=db;Database=shop;User Id=sa;Encrypt=1",
		"Data Source=tcp:db,1433;PWD=x:y@z":                          "Data Source=tcp:db,1433;",
		"host=db user=app password='se cret' dbname=shop":            "host=db user=app  dbname=shop",
		"jdbc:postgresql://db/shop?user=app&password=s&ssl=true":     "jdbc:postgresql://db/shop?user=app&ssl=true",
		"mysql://db/shop?password=s":                                 "mysql://db/shop?",
	} {
		if got := withoutPassword(in); got != want {
			t.Errorf("withoutPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeValidation(t *testing.T) {
	const trace = `"trace_id":"1-58406520-a006649127e371903a2de979"`
	long := strings.Repeat("é", MaxNameLength+1)
	for _, tc := range []struct {
		name, doc, want, code string
	}{
		{"not json", `{"id":`, "segment document: invalid JSON", CodeInvalidSegment},
		{"not an object", `"hello"`, "segment document: want a JSON object, got a string", CodeInvalidSegment},
		{"wrong field type", `{"id":"70de5b6f19ff9a0a","error":"yes"}`, "field error: a JSON string is not allowed here", CodeInvalidSegment},
		{"empty array", `[]`, "empty array", CodeInvalidSegment},
		{"too large", `{"name":"` + strings.Repeat("x", MaxDocumentBytes) + `"}`, "over X-Ray's limit of 65536", CodeInvalidSegment},
		{"no trace id", `{"id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2}`, "segment 70de5b6f19ff9a0a: trace_id is required", CodeInvalidTraceID},
		{"bad trace id", `{"trace_id":"1-abc","id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2}`, `segment 70de5b6f19ff9a0a: trace_id "1-abc": want 1-<8 hex>-<24 hex>`, CodeInvalidTraceID},
		{"no id", `{` + trace + `,"name":"a","start_time":1,"end_time":2}`, "segment: id is required", CodeInvalidSegment},
		{"short id", `{` + trace + `,"id":"70de5b","name":"a","start_time":1,"end_time":2}`, `segment 70de5b: id "70de5b": want 16 hex digits`, CodeInvalidSegment},
		{"no name", `{` + trace + `,"id":"70de5b6f19ff9a0a","start_time":1,"end_time":2}`, "segment 70de5b6f19ff9a0a: name is required", CodeInvalidSegment},
		{"long name", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"` + long + `","start_time":1,"end_time":2}`, "name is 201 characters, at most 200", CodeInvalidSegment},
		{"no start", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","end_time":2}`, "segment 70de5b6f19ff9a0a: start_time is required", CodeInvalidSegment},
		{"zero start", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":0,"end_time":2}`, "start_time is 0", CodeInvalidSegment},
		{"negative start", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":-5,"end_time":2}`, `start_time "-5": want epoch seconds`, CodeInvalidSegment},
		{"huge end", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":1e20}`, `end_time "1e20": epoch seconds out of range`, CodeInvalidSegment},
		{"no end", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":1}`, "end_time is required, or in_progress: true", CodeInvalidSegment},
		{"bad parent", `{` + trace + `,"id":"70de5b6f19ff9a0a","parent_id":"zz","name":"a","start_time":1,"end_time":2}`, `parent_id "zz": want 16 hex digits`, CodeInvalidSegment},
		{"bad type", `{` + trace + `,"type":"segment","id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2}`, `type "segment": want "subsegment"`, CodeInvalidSegment},
		{"standalone without parent", `{` + trace + `,"type":"subsegment","id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2}`, "subsegment 70de5b6f19ff9a0a: parent_id is required", CodeInvalidSegment},
		{"standalone without trace", `{"type":"subsegment","parent_id":"70de5b6f19ff9a0b","id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2}`, "subsegment 70de5b6f19ff9a0a: trace_id is required", CodeInvalidTraceID},
		{"nested without id", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2,"subsegments":[{"name":"b","start_time":1,"end_time":2}]}`, "subsegment: id is required", CodeInvalidSegment},
		{"nested without end", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2,"subsegments":[{"id":"70de5b6f19ff9a0b","name":"b","start_time":1}]}`, "subsegment 70de5b6f19ff9a0b: end_time is required", CodeInvalidSegment},
		{"bad precursor", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2,"precursor_ids":["x"]}`, `precursor_ids "x": want 16 hex digits`, CodeInvalidSegment},
		{"bad ec2 block", `{` + trace + `,"id":"70de5b6f19ff9a0a","name":"a","start_time":1,"end_time":2,"aws":{"ec2":"i-1"}}`, "segment 70de5b6f19ff9a0a: aws.ec2: want a JSON object", CodeInvalidSegment},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := NewDecoder().Decode([]byte(tc.doc), observed)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if recs != nil {
				t.Errorf("records returned with an error")
			}
			var de *DocumentError
			if !errors.As(err, &de) || de.Code != tc.code || !errors.Is(err, ErrInvalidDocument) {
				t.Errorf("error %#v: want a *DocumentError with code %s", err, tc.code)
			}
		})
	}
}

func TestHomeCacheIsBounded(t *testing.T) {
	c := newHomeCache(100)
	h := &home{service: "s"}
	var recs []eventstore.Record
	for i := range 1000 {
		recs = append(recs, eventstore.Record{TraceID: [16]byte{1}, SpanID: [8]byte{byte(i), byte(i >> 8), 1}})
	}
	c.putAll(recs, h)
	if n := c.len(); n > 100 {
		t.Fatalf("cache holds %d entries, bound is 100", n)
	}
	// The most recent survive; a hit in the old generation is kept alive.
	last := homeKey{recs[999].TraceID, recs[999].SpanID}
	if c.get(last) != h {
		t.Fatal("most recent id evicted")
	}
	if c.get(homeKey{recs[0].TraceID, recs[0].SpanID}) != nil {
		t.Fatal("oldest id still cached")
	}
}
