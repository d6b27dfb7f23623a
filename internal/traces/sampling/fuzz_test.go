package sampling

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

var targetsSeeds = []string{
	`{"SamplingStatisticsDocuments":[{"RuleName":"web","ClientID":"0123456789abcdef01234567","RequestCount":10,"SampledCount":2,"BorrowCount":1,"Timestamp":1700000000.5}]}`,
	`{"SamplingStatisticsDocuments":[]}`,
	`{"SamplingStatisticsDocuments":[null]}`,
	`{"SamplingStatisticsDocuments":[{"RuleName":"a","ClientID":"x","RequestCount":-1,"SampledCount":0,"Timestamp":-5}]}`,
	`{"SamplingStatisticsDocuments":[{"RuleName":"a","ClientID":"x","RequestCount":1,"SampledCount":0,"Timestamp":1e400}]}`,
	`{}`, ``, `null`, `[]`, `{"SamplingStatisticsDocuments":{}}`,
}

// FuzzDecodeTargets checks that any GetSamplingTargets body either fails
// with a ValidationError or yields at most 25 documents, and that the
// allocator then never hands out more than a rule's reservoir.
func FuzzDecodeTargets(f *testing.F) {
	for _, s := range targetsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		docs, err := decodeTargets(body)
		if err != nil {
			var ve *ValidationError
			if !asValidation(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			return
		}
		if len(docs) > MaxStatisticsDocuments {
			t.Fatalf("%d documents accepted", len(docs))
		}
		a := NewAllocator(nil)
		rules := []Rule{{RuleName: "web", ReservoirSize: 3}, {RuleName: "a", ReservoirSize: 0}}
		targets, unprocessed := a.Assign("t", rules, docs)
		if len(targets)+len(unprocessed) != len(docs) {
			t.Fatalf("%d docs gave %d targets and %d unprocessed", len(docs), len(targets), len(unprocessed))
		}
		for _, tg := range targets {
			if tg.ReservoirQuota < 0 || tg.ReservoirQuota > 3 {
				t.Fatalf("quota %d outside [0, 3]", tg.ReservoirQuota)
			}
		}
	})
}

// FuzzDecodeCreateRule checks that a CreateSamplingRule body either fails
// with a ValidationError or yields a rule that, when valid, survives a
// round trip through its JSON form unchanged.
func FuzzDecodeCreateRule(f *testing.F) {
	f.Add([]byte(createBody))
	f.Add([]byte(strings.Replace(createBody, `"Priority":7`, `"Priority":7.5`, 1)))
	f.Add([]byte(`{"SamplingRule":{"RuleARN":"arn:aws:xray:us-east-1:000000000000:sampling-rule/x"}}`))
	f.Add([]byte(`{"SamplingRule":null,"Tags":[{}]}`))
	f.Add([]byte(`{"SamplingRule":{"RuleName":"é","Priority":1,"FixedRate":1e-300,"ReservoirSize":2147483647,"ServiceName":"?","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","ResourceARN":"*","Version":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeCreateRule(body)
		if err != nil {
			var ve *ValidationError
			if !asValidation(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			return
		}
		if r.Validate() != nil {
			return
		}
		wire, err := json.Marshal(map[string]Rule{"SamplingRule": r})
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeCreateRule(wire)
		if err != nil {
			t.Fatalf("re-decode %s: %v", wire, err)
		}
		if !reflect.DeepEqual(r, back) {
			t.Fatalf("round trip changed the rule:\n%+v\n%+v", r, back)
		}
	})
}

// FuzzHandler sends arbitrary bodies to every operation of one handler
// over a real meta store: it must answer 200 or a 4xx with an X-Ray error,
// never panic or fail with 5xx. Every exec writes SQLite, so pass a short
// -fuzzminimizetime (e.g. 2s): the default 60 s minimization stalls it.
func FuzzHandler(f *testing.F) {
	paths := []string{"/GetSamplingRules", "/SamplingTargets", "/CreateSamplingRule", "/UpdateSamplingRule", "/DeleteSamplingRule", "/TelemetryRecords"}
	for i, s := range []string{createBody, `{"SamplingRuleUpdate":{"RuleName":"web","ReservoirSize":3}}`, `{"RuleName":"web"}`, `{"NextToken":"1"}`} {
		f.Add(uint8(2+i), []byte(s))
	}
	for _, s := range targetsSeeds {
		f.Add(uint8(1), []byte(s))
	}
	svc := NewService(openMeta(f), Options{MaxRules: 5})
	h := svc.Handler(func(*http.Request) (string, error) { return "acme", nil })
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		path := paths[int(op)%len(paths)]
		w := call(h, "POST", path, string(body))
		switch {
		case w.Code == 200:
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s: invalid JSON response %s", path, w.Body)
			}
		case w.Code >= 400 && w.Code < 500:
			if w.Header().Get("x-amzn-ErrorType") == "" {
				t.Fatalf("%s: %d without x-amzn-ErrorType", path, w.Code)
			}
		default:
			t.Fatalf("%s %q: status %d: %s", path, body, w.Code, w.Body)
		}
	})
}

func asValidation(err error, target **ValidationError) bool {
	ve, ok := err.(*ValidationError)
	*target = ve
	return ok
}
