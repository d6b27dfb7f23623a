package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/tenant"
	"github.com/miradorhq/mirador/internal/traces/sampling"
	"github.com/miradorhq/mirador/internal/traces/xray"
)

// xraySampling serves the X-Ray sampling operations (GetSamplingRules,
// SamplingTargets, Create/Update/DeleteSamplingRule, TelemetryRecords) for
// the tenant of the credential, as the daemon's TCP side does.
func (o Options) xraySampling() http.Handler {
	return o.Sampling.Handler(func(r *http.Request) (string, error) {
		id, _ := tenant.FromContext(r.Context())
		return id, nil
	})
}

// putTraceSegments serves X-Ray's PutTraceSegments (POST /TraceSegments):
// the good documents are stored, the bad ones listed as unprocessed.
func (o Options) putTraceSegments() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amzn-RequestId", xray.RequestID())
		id, _ := tenant.FromContext(r.Context())
		body, status, err := ingest.ReadBody(r, o.Traces.MaxBodyBytes(id))
		if err != nil {
			xray.WriteError(w, status, "InvalidRequestException", err.Error())
			return
		}
		recs, unprocessed, err := o.XRay.DecodePutTraceSegments(body, time.Now())
		if err != nil {
			xray.WriteError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
			return
		}
		spanIDs := make([][8]byte, len(recs)) // Ingest filters recs in place
		for i := range recs {
			spanIDs[i] = recs[i].SpanID
		}
		res, err := o.Traces.Ingest(r.Context(), id, "xray", recs)
		var rate *ingest.RateLimitError
		switch {
		case errors.As(err, &rate):
			xray.WriteError(w, rate.StatusCode(), "ThrottledException", err.Error())
			return
		case err != nil:
			xray.WriteError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
			return
		}
		for _, rej := range res.Rejected {
			unprocessed = append(unprocessed, xray.Unprocessed{Id: fmt.Sprintf("%x", spanIDs[rej.Index]), ErrorCode: rej.Reason, Message: rej.Error})
		}
		if unprocessed == nil {
			unprocessed = []xray.Unprocessed{}
		}
		writeJSON(w, http.StatusOK, xray.PutTraceSegmentsOutput{UnprocessedTraceSegments: unprocessed})
	})
}

// writeSamplingError answers a native sampling-rules call.
func writeSamplingError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, sampling.ErrInvalidRule), errors.Is(err, sampling.ErrDefaultRule), errors.Is(err, sampling.ErrRuleLimit):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, sampling.ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, sampling.ErrExists):
		writeError(w, http.StatusConflict, "%v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// listSamplingRules serves GET /api/v1/traces/sampling-rules.
func (o Options) listSamplingRules() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		recs, err := o.Sampling.Store().List(r.Context(), id)
		if err != nil {
			writeSamplingError(w, err)
			return
		}
		writeData(w, http.StatusOK, recs)
	})
}

// createSamplingRule serves POST /api/v1/traces/sampling-rules.
func (o Options) createSamplingRule() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rule sampling.Rule
		if !decodeJSON(w, r, &rule) {
			return
		}
		id, _ := tenant.FromContext(r.Context())
		rec, err := o.Sampling.Store().Create(r.Context(), id, rule)
		if err != nil {
			writeSamplingError(w, err)
			return
		}
		writeData(w, http.StatusCreated, rec)
	})
}

// samplingRule serves GET, PUT (a partial update, X-Ray's
// SamplingRuleUpdate) and DELETE of /api/v1/traces/sampling-rules/{name}.
func (o Options) samplingRule() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		name := r.PathValue("name")
		var (
			rec sampling.Record
			err error
		)
		switch r.Method {
		case http.MethodGet:
			rec, err = o.Sampling.Store().Get(r.Context(), id, name)
		case http.MethodPut:
			var u sampling.RuleUpdate
			if !decodeJSON(w, r, &u) {
				return
			}
			if u.RuleName != nil && *u.RuleName != name {
				writeError(w, http.StatusBadRequest, "RuleName %q in the body differs from %q in the path; a rule cannot be renamed", *u.RuleName, name)
				return
			}
			u.RuleName, u.RuleARN = nil, nil
			rec, err = o.Sampling.Store().Update(r.Context(), id, name, u)
		case http.MethodDelete:
			rec, err = o.Sampling.Store().Delete(r.Context(), id, name)
		}
		if err != nil {
			writeSamplingError(w, err)
			return
		}
		writeData(w, http.StatusOK, rec)
	})
}
