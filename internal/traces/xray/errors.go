package xray

import (
	"errors"
	"fmt"
)

// ErrInvalidDocument is matched (errors.Is) by every error Decode returns
// for a document that breaks the X-Ray segment format.
var ErrInvalidDocument = errors.New("invalid X-Ray segment document")

// ErrInvalidRequest is matched by errors DecodePutTraceSegments returns for
// a request body that is not a PutTraceSegments request.
var ErrInvalidRequest = errors.New("invalid PutTraceSegments request")

// Error codes of UnprocessedTraceSegments entries.
const (
	CodeInvalidTraceID = "InvalidTraceId"
	CodeInvalidSegment = "InvalidSegment"
)

// DocumentError says why a segment document was refused and which segment
// it was, so PutTraceSegments can report it per document.
type DocumentError struct {
	ID   string // the document's id when it could be read, else ""
	Code string // CodeInvalidTraceID or CodeInvalidSegment
	Msg  string
}

func (e *DocumentError) Error() string        { return e.Msg }
func (e *DocumentError) Is(target error) bool { return target == ErrInvalidDocument }

func docErrorf(id, code, format string, args ...any) *DocumentError {
	return &DocumentError{ID: id, Code: code, Msg: fmt.Sprintf(format, args...)}
}
