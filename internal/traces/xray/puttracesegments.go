package xray

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// PutTraceSegmentsInput is the body of X-Ray's PutTraceSegments
// (POST /TraceSegments): segment documents, each a JSON string.
type PutTraceSegmentsInput struct {
	TraceSegmentDocuments []string `json:"TraceSegmentDocuments"`
}

// PutTraceSegmentsOutput is its response.
type PutTraceSegmentsOutput struct {
	UnprocessedTraceSegments []Unprocessed `json:"UnprocessedTraceSegments"`
}

// Unprocessed reports a segment document that was not stored.
type Unprocessed struct {
	Id        string `json:"Id,omitempty"` // spelled as on the wire
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

// DecodePutTraceSegments decodes a PutTraceSegments request body into the
// records of its good documents and an Unprocessed entry for each bad one.
// err (matching ErrInvalidRequest) is set only when the body itself is not
// a PutTraceSegments request. The response body is
// PutTraceSegmentsOutput{UnprocessedTraceSegments: unprocessed}.
func (d *Decoder) DecodePutTraceSegments(body []byte, now time.Time) (recs []eventstore.Record, unprocessed []Unprocessed, err error) {
	var in struct {
		TraceSegmentDocuments *[]string `json:"TraceSegmentDocuments"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, nil, fmt.Errorf("%w: body: %s", ErrInvalidRequest, jsonError(err))
	}
	if in.TraceSegmentDocuments == nil {
		return nil, nil, fmt.Errorf("%w: TraceSegmentDocuments is required: an array of segment documents, each a JSON string", ErrInvalidRequest)
	}
	unprocessed = []Unprocessed{}
	for i, doc := range *in.TraceSegmentDocuments {
		got, err := d.Decode([]byte(doc), now)
		if err != nil {
			u := Unprocessed{ErrorCode: CodeInvalidSegment, Message: fmt.Sprintf("TraceSegmentDocuments[%d]: %v", i, err)}
			var de *DocumentError
			if errors.As(err, &de) {
				u.ErrorCode = de.Code
				if len(de.ID) <= 64 {
					u.Id = de.ID
				}
			}
			unprocessed = append(unprocessed, u)
			continue
		}
		recs = append(recs, got...)
	}
	return recs, unprocessed, nil
}
