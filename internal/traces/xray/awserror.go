package xray

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
)

// WriteError answers an X-Ray API call with an error as the AWS SDKs
// parse it: the status, header x-amzn-ErrorType and {"__type", "message"}.
func WriteError(w http.ResponseWriter, status int, errType, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", errType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{errType, msg})
}

// RequestID returns a fresh id for header x-amzn-RequestId.
func RequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
