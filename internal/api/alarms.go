package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/miradorhq/mirador/internal/alarms"
	"github.com/miradorhq/mirador/internal/alarms/eval"
	"github.com/miradorhq/mirador/internal/tenant"
)

func writeAlarmsError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, alarms.ErrInvalid), errors.Is(err, errInvalidInput):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, alarms.ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// listAlarms serves GET /api/v1/alarms?prefix=&state=&kind=.
func (o Options) listAlarms() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		q := r.URL.Query()
		f := alarms.ListFilter{Prefix: q.Get("prefix"), State: eval.State(q.Get("state")), Kind: q.Get("kind")}
		writeData(w, http.StatusOK, map[string]any{"alarms": o.Alarms.List(r.Context(), id, f)})
	})
}

// putAlarm serves PUT /api/v1/alarms/{name}: create or replace.
func (o Options) putAlarm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a alarms.Alarm
		if !decodeJSON(w, r, &a) {
			return
		}
		name := r.PathValue("name")
		if a.Name != "" && a.Name != name {
			writeError(w, http.StatusBadRequest, "name %q in the body differs from %q in the path", a.Name, name)
			return
		}
		a.Name = name
		id, _ := tenant.FromContext(r.Context())
		st, created, err := o.Alarms.Put(r.Context(), id, a)
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeData(w, status, st)
	})
}

func (o Options) getAlarm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		st, err := o.Alarms.Get(r.Context(), id, r.PathValue("name"))
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusOK, st)
	})
}

func (o Options) deleteAlarm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		if err := o.Alarms.Delete(r.Context(), id, r.PathValue("name")); err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]string{"deleted": r.PathValue("name")})
	})
}

// setAlarmState serves POST /api/v1/alarms/{name}/state, for testing
// actions (CloudWatch's SetAlarmState).
func (o Options) setAlarmState() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			State      eval.State      `json:"state"`
			Reason     string          `json:"reason"`
			ReasonData json.RawMessage `json:"reasonData"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		id, _ := tenant.FromContext(r.Context())
		st, err := o.Alarms.SetState(r.Context(), id, r.PathValue("name"), req.State, req.Reason, req.ReasonData)
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusOK, st)
	})
}

// setAlarmActions serves POST /api/v1/alarms/{name}/actions {"enabled":b}.
func (o Options) setAlarmActions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Enabled *bool `json:"enabled"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		if req.Enabled == nil {
			writeError(w, http.StatusBadRequest, `enabled: required, true or false`)
			return
		}
		id, _ := tenant.FromContext(r.Context())
		st, err := o.Alarms.SetActionsEnabled(r.Context(), id, r.PathValue("name"), *req.Enabled)
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusOK, st)
	})
}

// alarmHistory serves GET /api/v1/alarms/{name}/history and
// GET /api/v1/alarm-history (every alarm): ?type=&start=&end=&limit=.
func (o Options) alarmHistory() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, end, err := optionalRange(q.Get("start"), q.Get("end"))
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		limit := 100
		if v := q.Get("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
				writeError(w, http.StatusBadRequest, "limit %q: want 1 to 10000", v)
				return
			}
		}
		id, _ := tenant.FromContext(r.Context())
		items, err := o.Alarms.History(r.Context(), id, alarms.HistoryRequest{
			AlarmName: r.PathValue("name"), ItemType: q.Get("type"), Start: start, End: end, Limit: limit,
		})
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"items": items})
	})
}

// queryAlarmHistory serves POST /api/v1/alarm-history/query: a Logs
// Insights query over the alarm history.
func (o Options) queryAlarmHistory() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query  string   `json:"query"`
			Alarms []string `json:"alarms"`
			Start  string   `json:"start"`
			End    string   `json:"end"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		start, end, err := optionalRange(req.Start, req.End)
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		id, _ := tenant.FromContext(r.Context())
		res, err := o.Alarms.QueryHistory(r.Context(), id, req.Query, req.Alarms, start, end)
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"fields": res.Fields, "rows": res.Rows, "partial": res.Partial})
	})
}

// optionalRange parses an optional RFC 3339 start and end (zero if absent).
func optionalRange(start, end string) (s, e time.Time, err error) {
	if start == "" && end == "" {
		return time.Time{}, time.Time{}, nil
	}
	return timeRange(start, end)
}

func (o Options) listMutes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		writeData(w, http.StatusOK, map[string]any{"muteWindows": o.Alarms.Mutes(id)})
	})
}

func (o Options) putMute() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m alarms.MuteWindow
		if !decodeJSON(w, r, &m) {
			return
		}
		id, _ := tenant.FromContext(r.Context())
		m, err := o.Alarms.PutMute(r.Context(), id, m)
		if err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusCreated, m)
	})
}

func (o Options) deleteMute() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		if err := o.Alarms.DeleteMute(r.Context(), id, r.PathValue("id")); err != nil {
			writeAlarmsError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]string{"deleted": r.PathValue("id")})
	})
}
