package xray

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodePutTraceSegments(t *testing.T) {
	docs := []string{
		segmentDoc("70de5b6f19ff9a0a", "api", `,"subsegments":[{"id":"70de5b6f19ff9a0b","name":"db","start_time":1480615200.1,"end_time":1480615200.15}]`),
		`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111","name":"bad"}`,
		`{"trace_id":"1-xyz","id":"2222222222222222","name":"bad","start_time":1,"end_time":2}`,
		`not json`,
		subsegmentDoc("3333333333333333", "70de5b6f19ff9a0b", "late", ""),
	}
	body, _ := json.Marshal(PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	recs, unprocessed, err := NewDecoder().DecodePutTraceSegments(body, observed)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[2].Name != "late" || recs[2].Group != "api" {
		t.Fatalf("got %d records (want 3, the last a standalone subsegment of api)", len(recs))
	}
	want := []Unprocessed{
		{Id: "1111111111111111", ErrorCode: CodeInvalidSegment, Message: "TraceSegmentDocuments[1]: segment 1111111111111111: start_time is required"},
		{Id: "2222222222222222", ErrorCode: CodeInvalidTraceID, Message: `TraceSegmentDocuments[2]: segment 2222222222222222: trace_id "1-xyz"`},
		{ErrorCode: CodeInvalidSegment, Message: "TraceSegmentDocuments[3]: segment document: invalid JSON"},
	}
	if len(unprocessed) != len(want) {
		t.Fatalf("unprocessed = %+v", unprocessed)
	}
	for i, w := range want {
		u := unprocessed[i]
		if u.Id != w.Id || u.ErrorCode != w.ErrorCode || !strings.HasPrefix(u.Message, w.Message) {
			t.Errorf("unprocessed[%d] = %+v, want %+v", i, u, w)
		}
	}
	// The response has AWS's wire shape.
	out, _ := json.Marshal(PutTraceSegmentsOutput{UnprocessedTraceSegments: unprocessed[:1]})
	if !strings.HasPrefix(string(out), `{"UnprocessedTraceSegments":[{"Id":"1111111111111111","ErrorCode":"InvalidSegment","Message":`) {
		t.Errorf("response JSON %s", out)
	}
}

func TestDecodePutTraceSegmentsAllGood(t *testing.T) {
	body := `{"TraceSegmentDocuments":[` + mustJSON(segmentDoc("70de5b6f19ff9a0a", "api", "")) + `]}`
	_, unprocessed, err := NewDecoder().DecodePutTraceSegments([]byte(body), observed)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(PutTraceSegmentsOutput{UnprocessedTraceSegments: unprocessed})
	if string(out) != `{"UnprocessedTraceSegments":[]}` {
		t.Errorf("response %s, want an empty list", out)
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDecodePutTraceSegmentsBadRequest(t *testing.T) {
	for body, want := range map[string]string{
		`{}`:                                     "TraceSegmentDocuments is required",
		`{"TraceSegmentDocuments":"x"}`:          "field TraceSegmentDocuments: a JSON string is not allowed here",
		`{"TraceSegmentDocuments":[{"id":"x"}]}`: "field TraceSegmentDocuments: a JSON object is not allowed here",
		`[`:                                      "invalid JSON",
	} {
		_, _, err := NewDecoder().DecodePutTraceSegments([]byte(body), observed)
		if err == nil || !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodePutTraceSegments(%s) error = %v, want ErrInvalidRequest with %q", body, err, want)
		}
	}
}
