package api

import (
	"errors"
	"net/http"

	"github.com/miradorhq/mirador/internal/logs/metricfilter"
	"github.com/miradorhq/mirador/internal/tenant"
)

// metricFilterView is a filter as the API shows it: CloudWatch's fields
// and the selector of its series.
type metricFilterView struct {
	metricfilter.Filter
	Selector string `json:"selector"`
}

func viewMetricFilter(f metricfilter.Filter) metricFilterView {
	return metricFilterView{Filter: f, Selector: f.Selector()}
}

func writeMetricFilterError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, metricfilter.ErrInvalid), errors.Is(err, metricfilter.ErrLimit):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, metricfilter.ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// listMetricFilters serves GET /api/v1/logs/metric-filters[?group=]
// (DescribeMetricFilters).
func (o Options) listMetricFilters() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		fs, err := o.MetricFilters.List(r.Context(), id, r.URL.Query().Get("group"))
		if err != nil {
			writeMetricFilterError(w, err)
			return
		}
		out := make([]metricFilterView, len(fs))
		for i, f := range fs {
			out[i] = viewMetricFilter(f)
		}
		writeData(w, http.StatusOK, map[string]any{"metricFilters": out})
	})
}

// putMetricFilter serves PUT /api/v1/logs/metric-filters/{name}
// (PutMetricFilter, in its JSON shape).
func (o Options) putMetricFilter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f metricfilter.Filter
		if !decodeJSON(w, r, &f) {
			return
		}
		name := r.PathValue("name")
		if f.Name != "" && f.Name != name {
			writeError(w, http.StatusBadRequest, "filterName %q in the body differs from %q in the path; omit it or make them equal", f.Name, name)
			return
		}
		f.Name = name
		id, _ := tenant.FromContext(r.Context())
		if err := o.MetricFilters.Put(r.Context(), id, f); err != nil {
			writeMetricFilterError(w, err)
			return
		}
		saved, err := o.MetricFilters.Get(r.Context(), id, f.LogGroup, f.Name)
		if err != nil {
			writeMetricFilterError(w, err)
			return
		}
		writeData(w, http.StatusOK, viewMetricFilter(saved))
	})
}

// deleteMetricFilter serves DELETE /api/v1/logs/metric-filters/{name}?group=
// (DeleteMetricFilter).
func (o Options) deleteMetricFilter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		group := r.URL.Query().Get("group")
		if group == "" {
			writeError(w, http.StatusBadRequest, "group: required, the log group of the filter (?group=…)")
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
// (TestMetricFilter; a transformation may be added to see what matches
// would add).
func (o Options) testMetricFilter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			FilterPattern    string                        `json:"filterPattern"`
			LogEventMessages []string                      `json:"logEventMessages"`
			Transformations  []metricfilter.Transformation `json:"metricTransformations"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		var t *metricfilter.Transformation
		switch len(req.Transformations) {
		case 0:
		case 1:
			t = &req.Transformations[0]
		default:
			writeError(w, http.StatusBadRequest, "metricTransformations: at most one, got %d", len(req.Transformations))
			return
		}
		ms, err := metricfilter.Test(req.FilterPattern, t, req.LogEventMessages)
		if err != nil {
			writeMetricFilterError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"matches": ms})
	})
}
