package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Responses use the Prometheus API envelope, so one client shape reads
// every Mirador API: {"status":"success","data":...} or
// {"status":"error","errorType":"...","error":"..."}.
type envelope struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

func writeData(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, envelope{Status: "success", Data: data})
}

// errorTypes are the Prometheus API's errorType values by status.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "bad_data",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "bad_data",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "bad_data",
	http.StatusUnsupportedMediaType:  "bad_data",
	http.StatusServiceUnavailable:    "unavailable",
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	typ, ok := errorTypes[status]
	if !ok {
		typ = "internal"
	}
	writeJSON(w, status, envelope{Status: "error", ErrorType: typ, Error: fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxJSONBody bounds the control-plane request bodies decoded here.
const maxJSONBody = 1 << 20

// decodeJSON reads one JSON object into v, refusing unknown fields so a
// misspelt field is an error rather than silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", maxJSONBody)
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "request body is empty: send a JSON object")
		default:
			writeError(w, http.StatusBadRequest, "invalid JSON body: %v", err)
		}
		return false
	}
	return true
}
