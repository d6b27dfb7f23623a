package sampling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/miradorhq/mirador/internal/traces/xray"
)

// X-Ray error types (the x-amzn-ErrorType header and "__type").
const (
	ErrorTypeInvalidRequest   = "InvalidRequestException"
	ErrorTypeRuleLimit        = "RuleLimitExceededException"
	ErrorTypeUnknownOperation = "UnknownOperationException"
	ErrorTypeAccessDenied     = "AccessDeniedException"
	ErrorTypeTooLarge         = "RequestEntityTooLargeException"
	ErrorTypeInternal         = "InternalFailure"
)

// MaxRequestBytes bounds a request body; the largest legitimate one (25
// statistics documents) is a few kilobytes.
const MaxRequestBytes = 1 << 20

// rulesPageSize is how many records one GetSamplingRules page holds. It
// exceeds DefaultMaxRules + 1 because the X-Ray SDK for Go reads only the
// first page.
const rulesPageSize = 100

// Handler serves the X-Ray sampling API as rest-json on the paths X-Ray
// and the X-Ray daemon use, relative to where it is mounted:
//
//	POST /GetSamplingRules    POST /SamplingTargets     POST /TelemetryRecords
//	POST /CreateSamplingRule  POST /UpdateSamplingRule  POST /DeleteSamplingRule
//
// tenantOf names the tenant of a request; its error is answered with 403
// AccessDeniedException. Errors are X-Ray's: status, x-amzn-ErrorType
// header and {"__type", "message"} body. A missing rule is an
// InvalidRequestException, as X-Ray's model declares no other error for
// these operations.
func (s *Service) Handler(tenantOf func(*http.Request) (string, error)) http.Handler {
	ops := map[string]func(context.Context, string, []byte) (any, error){
		"/GetSamplingRules":   s.serveGetRules,
		"/SamplingTargets":    s.serveTargets,
		"/CreateSamplingRule": s.serveCreate,
		"/UpdateSamplingRule": s.serveUpdate,
		"/DeleteSamplingRule": s.serveDelete,
		"/TelemetryRecords":   serveTelemetry,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := xray.RequestID()
		w.Header().Set("x-amzn-RequestId", reqID)
		op, ok := ops[r.URL.Path]
		name := r.URL.Path
		if !ok {
			name = "unknown"
		}
		fail := func(status int, errType, msg string) {
			s.requests.WithLabelValues(name, errType).Inc()
			xray.WriteError(w, status, errType, msg)
		}
		if !ok {
			fail(http.StatusNotFound, ErrorTypeUnknownOperation, fmt.Sprintf("no X-Ray sampling operation at POST %s; use one of /GetSamplingRules, /SamplingTargets, /CreateSamplingRule, /UpdateSamplingRule, /DeleteSamplingRule, /TelemetryRecords", r.URL.Path))
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			fail(http.StatusMethodNotAllowed, ErrorTypeUnknownOperation, fmt.Sprintf("%s %s: X-Ray operations use POST", r.Method, r.URL.Path))
			return
		}
		tenant, err := tenantOf(r)
		if err != nil {
			fail(http.StatusForbidden, ErrorTypeAccessDenied, err.Error())
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				fail(http.StatusRequestEntityTooLarge, ErrorTypeTooLarge, fmt.Sprintf("request body exceeds %d bytes", MaxRequestBytes))
				return
			}
			fail(http.StatusBadRequest, ErrorTypeInvalidRequest, "read request body: "+err.Error())
			return
		}
		out, err := op(r.Context(), tenant, body)
		if err != nil {
			status, errType, msg := classify(err)
			if status >= 500 {
				s.opts.Logger.Error("x-ray sampling request failed", "operation", name, "tenant", tenant, "request_id", reqID, "err", err)
			}
			fail(status, errType, msg)
			return
		}
		s.requests.WithLabelValues(name, "").Inc()
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(out); err != nil {
			s.opts.Logger.Debug("write x-ray sampling response", "operation", name, "err", err)
		}
	})
}

// classify maps an error to status, X-Ray error type and message.
func classify(err error) (int, string, string) {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve), errors.Is(err, ErrNotFound), errors.Is(err, ErrExists):
		return http.StatusBadRequest, ErrorTypeInvalidRequest, err.Error()
	case errors.Is(err, ErrRuleLimit):
		return http.StatusBadRequest, ErrorTypeRuleLimit, err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, ErrorTypeInternal, "request cancelled: " + err.Error()
	}
	return http.StatusInternalServerError, ErrorTypeInternal, "internal error; the server log has details"
}

func (s *Service) serveGetRules(ctx context.Context, tenant string, body []byte) (any, error) {
	var in getRulesInput
	if err := decodeBody(body, &in); err != nil {
		return nil, err
	}
	start := 0
	if in.NextToken != nil && *in.NextToken != "" {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 {
			return nil, invalid("NextToken", "%q is not a token this server issued; omit it to start from the first page", truncate(*in.NextToken, 40))
		}
		start = n
	}
	recs, err := s.store.List(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := getRulesOutput{SamplingRuleRecords: []wireRecord{}}
	end := min(start+rulesPageSize, len(recs))
	for i := start; i < end; i++ {
		out.SamplingRuleRecords = append(out.SamplingRuleRecords, toWireRecord(recs[i]))
	}
	if end < len(recs) {
		next := strconv.Itoa(end)
		out.NextToken = &next
	}
	return out, nil
}

func (s *Service) serveTargets(ctx context.Context, tenant string, body []byte) (any, error) {
	docs, err := decodeTargets(body)
	if err != nil {
		return nil, err
	}
	t, err := s.Targets(ctx, tenant, docs)
	if err != nil {
		return nil, err
	}
	return toTargetsOutput(t), nil
}

func (s *Service) serveCreate(ctx context.Context, tenant string, body []byte) (any, error) {
	r, err := decodeCreateRule(body)
	if err != nil {
		return nil, err
	}
	rec, err := s.store.Create(ctx, tenant, r)
	if err != nil {
		return nil, err
	}
	return ruleRecordOutput{toWireRecord(rec)}, nil
}

func (s *Service) serveUpdate(ctx context.Context, tenant string, body []byte) (any, error) {
	u, err := decodeUpdateRule(body)
	if err != nil {
		return nil, err
	}
	rec, err := s.store.Update(ctx, tenant, "", u)
	if err != nil {
		return nil, err
	}
	return ruleRecordOutput{toWireRecord(rec)}, nil
}

func (s *Service) serveDelete(ctx context.Context, tenant string, body []byte) (any, error) {
	var in deleteRuleInput
	if err := decodeBody(body, &in); err != nil {
		return nil, err
	}
	var name, arn string
	if in.RuleName != nil {
		name = *in.RuleName
	}
	if in.RuleARN != nil {
		arn = *in.RuleARN
	}
	name, err := s.store.ResolveName(name, arn)
	if err != nil {
		return nil, err
	}
	rec, err := s.store.Delete(ctx, tenant, name)
	if err != nil {
		return nil, err
	}
	return ruleRecordOutput{toWireRecord(rec)}, nil
}

// serveTelemetry accepts PutTelemetryRecords (the daemon's own health
// reports) and discards them: Mirador monitors itself through its metrics.
func serveTelemetry(context.Context, string, []byte) (any, error) {
	return struct{}{}, nil
}
