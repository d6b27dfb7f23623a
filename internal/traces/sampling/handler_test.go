package sampling

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const createBody = `{"SamplingRule":{"RuleName":"web","Priority":7,"FixedRate":0,"ReservoirSize":0,"ServiceName":"web","ServiceType":"*","Host":"*","HTTPMethod":"GET","URLPath":"/x*","ResourceARN":"*","Version":1,"Attributes":{"k":"v"}},"Tags":[{"Key":"team","Value":"a"}]}`

func newTestHandler(t *testing.T) http.Handler {
	t.Helper()
	svc := NewService(openMeta(t), Options{})
	return svc.Handler(func(r *http.Request) (string, error) {
		if r.Header.Get("X-Tenant") == "" {
			return "", errors.New("missing tenant")
		}
		return r.Header.Get("X-Tenant"), nil
	})
}

func call(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("X-Tenant", "acme")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandlerResponses(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		errType                  string // x-amzn-ErrorType; "" on success
		contains                 []string
	}{
		{"rules of a fresh tenant", "POST", "/GetSamplingRules", "", 200, "", []string{
			`"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"Default","RuleARN":"arn:aws:xray:us-east-1:000000000000:sampling-rule/Default","ResourceARN":"*","Priority":10000,"FixedRate":0.05,"ReservoirSize":1,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1},"CreatedAt":`,
		}},
		{"create", "POST", "/CreateSamplingRule", createBody, 200, "", []string{`"SamplingRuleRecord":{"SamplingRule":{"RuleName":"web"`, `"Attributes":{"k":"v"}`, `"CreatedAt":1`}},
		{"create again", "POST", "/CreateSamplingRule", createBody, 400, "InvalidRequestException", []string{`"__type":"InvalidRequestException"`, `already exists`}},
		{"create missing FixedRate", "POST", "/CreateSamplingRule", strings.Replace(createBody, `"FixedRate":0,`, "", 1), 400, "InvalidRequestException", []string{`SamplingRule.FixedRate: is required`}},
		{"create fractional priority", "POST", "/CreateSamplingRule", strings.Replace(createBody, `"Priority":7`, `"Priority":7.5`, 1), 400, "InvalidRequestException", []string{`SamplingRule.Priority: expected an integer, got JSON number 7.5`}},
		{"create huge reservoir", "POST", "/CreateSamplingRule", strings.Replace(createBody, `"ReservoirSize":0`, `"ReservoirSize":99999999999`, 1), 400, "InvalidRequestException", []string{`does not fit a 32-bit integer`}},
		{"create bad JSON", "POST", "/CreateSamplingRule", `{"SamplingRule":`, 400, "InvalidRequestException", []string{`not valid JSON`}},
		{"create without rule", "POST", "/CreateSamplingRule", `{}`, 400, "InvalidRequestException", []string{`SamplingRule: is required`}},
		{"update", "POST", "/UpdateSamplingRule", `{"SamplingRuleUpdate":{"RuleName":"web","ReservoirSize":3}}`, 200, "", []string{`"ReservoirSize":3`, `"FixedRate":0,`}},
		{"update missing rule", "POST", "/UpdateSamplingRule", `{"SamplingRuleUpdate":{"RuleName":"nope","ReservoirSize":3}}`, 400, "InvalidRequestException", []string{`sampling rule not found: \"nope\"`}},
		{"update Default path", "POST", "/UpdateSamplingRule", `{"SamplingRuleUpdate":{"RuleName":"Default","URLPath":"/x"}}`, 400, "InvalidRequestException", []string{`only its FixedRate and ReservoirSize`}},
		{"targets", "POST", "/SamplingTargets", `{"SamplingStatisticsDocuments":[{"RuleName":"web","ClientID":"` + clientID("a") + `","RequestCount":10,"SampledCount":2,"BorrowCount":1,"Timestamp":1700000000.5},{"RuleName":"zzz","ClientID":"` + clientID("a") + `","RequestCount":1,"SampledCount":0,"Timestamp":1700000000}]}`, 200, "", []string{
			`"SamplingTargetDocuments":[{"RuleName":"web","FixedRate":0,"ReservoirQuota":3,"ReservoirQuotaTTL":1`, `"Interval":10}]`,
			`"UnprocessedStatistics":[{"RuleName":"zzz","ErrorCode":"400","Message":"no sampling rule named \"zzz\"`,
			`"LastRuleModification":1`,
		}},
		{"targets none", "POST", "/SamplingTargets", `{"SamplingStatisticsDocuments":[]}`, 200, "", []string{`"SamplingTargetDocuments":[]`, `"UnprocessedStatistics":[]`}},
		{"targets missing list", "POST", "/SamplingTargets", `{}`, 400, "InvalidRequestException", []string{`SamplingStatisticsDocuments: is required`}},
		{"targets missing timestamp", "POST", "/SamplingTargets", `{"SamplingStatisticsDocuments":[{"RuleName":"web","ClientID":"x","RequestCount":1,"SampledCount":0}]}`, 400, "InvalidRequestException", []string{`SamplingStatisticsDocuments[0].Timestamp: is required`}},
		{"targets bad timestamp", "POST", "/SamplingTargets", `{"SamplingStatisticsDocuments":[{"RuleName":"web","ClientID":"x","RequestCount":1,"SampledCount":0,"Timestamp":"yesterday"}]}`, 400, "InvalidRequestException", []string{`timestamp \"yesterday\" is not a number of seconds`}},
		{"targets too many", "POST", "/SamplingTargets", `{"SamplingStatisticsDocuments":[` + strings.Repeat(`{},`, 25) + `{}]}`, 400, "InvalidRequestException", []string{`has 26 documents; send at most 25`}},
		{"delete Default", "POST", "/DeleteSamplingRule", `{"RuleName":"Default"}`, 400, "InvalidRequestException", []string{`cannot be deleted`}},
		{"delete by foreign ARN", "POST", "/DeleteSamplingRule", `{"RuleARN":"arn:aws:xray:eu-west-1:1:sampling-rule/web"}`, 400, "InvalidRequestException", []string{`not a sampling rule ARN of this server`}},
		{"delete by ARN", "POST", "/DeleteSamplingRule", `{"RuleARN":"arn:aws:xray:us-east-1:000000000000:sampling-rule/web"}`, 200, "", []string{`"RuleName":"web"`}},
		{"delete again", "POST", "/DeleteSamplingRule", `{"RuleName":"web"}`, 400, "InvalidRequestException", []string{`not found`}},
		{"bad next token", "POST", "/GetSamplingRules", `{"NextToken":"x"}`, 400, "InvalidRequestException", []string{`NextToken`}},
		{"telemetry", "POST", "/TelemetryRecords", `{"TelemetryRecords":[{"Timestamp":1,"SegmentsReceivedCount":1}],"EC2InstanceId":"i-1"}`, 200, "", []string{`{}`}},
		{"unknown path", "POST", "/TraceSegments", `{}`, 404, "UnknownOperationException", []string{`/GetSamplingRules`}},
		{"GET", "GET", "/GetSamplingRules", ``, 405, "UnknownOperationException", []string{`use POST`}},
		{"too large", "POST", "/CreateSamplingRule", strings.Repeat(" ", MaxRequestBytes+1), 413, "RequestEntityTooLargeException", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(h, tt.method, tt.path, tt.body)
			if w.Code != tt.status || w.Header().Get("x-amzn-ErrorType") != tt.errType {
				t.Fatalf("status %d, error type %q, want %d %q; body %s", w.Code, w.Header().Get("x-amzn-ErrorType"), tt.status, tt.errType, w.Body)
			}
			if w.Header().Get("x-amzn-RequestId") == "" || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", w.Header())
			}
			for _, want := range tt.contains {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("body %s\nlacks %s", w.Body, want)
				}
			}
			if tt.errType != "" {
				var e struct{ Type, Message string }
				if err := json.Unmarshal(w.Body.Bytes(), &struct {
					Type    *string `json:"__type"`
					Message *string `json:"message"`
				}{&e.Type, &e.Message}); err != nil || e.Type != tt.errType || e.Message == "" {
					t.Errorf("error body %s: want __type %s and a message", w.Body, tt.errType)
				}
			}
		})
	}
}

func TestHandlerRejectsUnknownTenant(t *testing.T) {
	h := newTestHandler(t)
	req := httptest.NewRequest("POST", "/GetSamplingRules", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 403 || w.Header().Get("x-amzn-ErrorType") != "AccessDeniedException" || !strings.Contains(w.Body.String(), "missing tenant") {
		t.Errorf("%d %v %s", w.Code, w.Header(), w.Body)
	}
}

func TestHandlerPagesRules(t *testing.T) {
	svc := NewService(openMeta(t), Options{MaxRules: 150})
	h := svc.Handler(func(*http.Request) (string, error) { return "acme", nil })
	for i := range 120 {
		body := strings.Replace(createBody, `"RuleName":"web"`, fmt.Sprintf(`"RuleName":"r%03d"`, i), 1)
		if w := call(h, "POST", "/CreateSamplingRule", body); w.Code != 200 {
			t.Fatalf("create %d: %s", i, w.Body)
		}
	}
	var names []string
	token := ""
	for page := 0; ; page++ {
		body := "{}"
		if token != "" {
			body = fmt.Sprintf(`{"NextToken":%q}`, token)
		}
		var out struct {
			SamplingRuleRecords []struct{ SamplingRule Rule }
			NextToken           *string
		}
		w := call(h, "POST", "/GetSamplingRules", body)
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		for _, r := range out.SamplingRuleRecords {
			names = append(names, r.SamplingRule.RuleName)
		}
		if out.NextToken == nil {
			break
		}
		if page > 3 {
			t.Fatal("paging does not end")
		}
		token = *out.NextToken
	}
	if len(names) != 121 || names[0] != "r000" || names[119] != "r119" || names[120] != "Default" {
		t.Errorf("%d names: first %v last %v", len(names), names[:2], names[len(names)-2:])
	}
}
