package otlp

import (
	"net/http"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// writeStatus answers an OTLP/HTTP request with a google.rpc.Status body in
// the request's encoding, as the OTLP specification asks.
func writeStatus(w http.ResponseWriter, req *http.Request, httpStatus int, msg string) {
	st := &status.Status{Code: int32(grpcCode(httpStatus)), Message: msg}
	var body []byte
	var err error
	if strings.HasPrefix(req.Header.Get("Content-Type"), string(formatJSON)) {
		w.Header().Set("Content-Type", string(formatJSON))
		body, err = protojson.Marshal(st)
	} else {
		w.Header().Set("Content-Type", string(formatProto))
		body, err = proto.Marshal(st)
	}
	if err != nil {
		http.Error(w, msg, httpStatus)
		return
	}
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// grpcCode maps an HTTP status onto the gRPC code with the same retry
// meaning in OTLP.
func grpcCode(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return codes.Unimplemented
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.Internal
}
