package api

import (
	"errors"
	"net/http"

	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/logs/metricfilter"
	"github.com/miradorhq/mirador/internal/tenant"
)

func writeMetricFilterError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, metricfilter.ErrInvalid):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, metricfilter.ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// listMetricFilters serves GET /api/v1/logs/metric-filters?group=.
func (o Options) listMetricFilters() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		fs, err := o.MetricFilters.List(r.Context(), id, r.URL.Query().Get("group"))
		if err != nil {
			writeMetricFilterError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"metricFilters": fs})
	})
}

// putMetricFilter serves PUT /api/v1/logs/metric-filters/{name}, in
// CloudWatch's PutMetricFilter shape.
func (o Options) putMetricFilter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f metricfilter.Filter
		if !decodeJSON(w, r, &f) {
			return
		}
		if f.Name != "" && f.Name != r.PathValue("name") {
			writeError(w, http.StatusBadRequest, "filterName %q in the body differs from %q in the path", f.Name, r.PathValue("name"))
			return
		}
		f.Name = r.PathValue("name")
		if f.LogGroup != "" {
			if err := logs.ValidateGroupName(f.LogGroup); err != nil {
				writeError(w, http.StatusBadRequest, "logGroupName: %v", err)
				return
			}
		}
		id, _ := tenant.FromContext(r.Context())
		if err := o.MetricFilters.Put(r.Context(), id, f); err != nil {
			writeMetricFilterError(w, err)
			return
		}
		writeData(w, http.StatusOK, f)
	})
}

// deleteMetricFilter serves DELETE /api/v1/logs/metric-filters/{name}?group=.
func (o Options) deleteMetricFilter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		group := r.URL.Query().Get("group")
		if group == "" {
			writeError(w, http.StatusBadRequest, "group: required, the log group of the filter")
			return
		}
		id, _ := tenant.FromContext(r.Context())
		if err := o.MetricFilters.Delete(r.Context(), id, group, r.PathValue("name")); err != nil {
			writeMetricFilterError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]string{"deleted": r.PathValue("name")})
	})
}

// testMetricFilter serves POST /api/v1/logs/metric-filters/test
// (CloudWatch's TestMetricFilter).
func (o Options) testMetricFilter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			FilterPattern    string   `json:"filterPattern"`
			LogEventMessages []string `json:"logEventMessages"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		ms, err := metricfilter.TestPattern(req.FilterPattern, req.LogEventMessages)
		if err != nil {
			writeMetricFilterError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"matches": ms})
	})
}
