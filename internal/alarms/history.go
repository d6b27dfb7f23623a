package alarms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/query/insights"
)

// History item types, as CloudWatch's.
const (
	HistoryConfigurationUpdate = "ConfigurationUpdate"
	HistoryStateUpdate         = "StateUpdate"
	HistoryAction              = "Action"
)

// HistoryItem is one entry of an alarm's history. In the event store's
// alarm_history dataset it is a record of group AlarmName whose message is
// HistorySummary and whose attributes are the other fields, so the
// Insights language queries it like a log.
type HistoryItem struct {
	AlarmName       string          `json:"alarmName"`
	AlarmType       string          `json:"alarmType"`
	Timestamp       time.Time       `json:"timestamp"`
	HistoryItemType string          `json:"historyItemType"`
	HistorySummary  string          `json:"historySummary"`
	HistoryData     json.RawMessage `json:"historyData,omitempty"`
}

// recordHistory appends items to the event store; a failure is logged,
// since the state change it describes is already committed.
func (s *Service) recordHistory(ctx context.Context, tenant string, items []HistoryItem) {
	if s.opts.History == nil || len(items) == 0 {
		return
	}
	recs := make([]eventstore.Record, len(items))
	now := s.opts.Now().UnixNano()
	for i, it := range items {
		recs[i] = eventstore.Record{
			Time: it.Timestamp.UnixNano(), ObservedTime: now,
			Group: it.AlarmName, Stream: it.AlarmType, Body: it.HistorySummary,
			Attributes: []eventstore.Attr{
				{Key: "alarmName", Value: eventstore.Value{Str: it.AlarmName}},
				{Key: "alarmType", Value: eventstore.Value{Str: it.AlarmType}},
				{Key: "historyItemType", Value: eventstore.Value{Str: it.HistoryItemType}},
				{Key: "historyData", Value: eventstore.Value{Str: string(it.HistoryData)}},
			},
		}
	}
	if err := s.opts.History.Append(context.WithoutCancel(ctx), tenant, eventstore.DatasetAlarmHistory, recs); err != nil {
		s.opts.Logger.Error("write alarm history", "tenant", tenant, "items", len(items), "err", err)
	}
}

// HistoryRequest selects history items.
type HistoryRequest struct {
	AlarmName string // empty: every alarm
	ItemType  string // empty: every type
	Start     time.Time
	End       time.Time
	Limit     int // default 100, at most 10,000
}

// History returns history items, newest first. Items stay after the
// alarm is deleted.
func (s *Service) History(ctx context.Context, tenant string, req HistoryRequest) ([]HistoryItem, error) {
	if req.Limit <= 0 || req.Limit > 10000 {
		req.Limit = 100
	}
	q := "fields @timestamp, @message, alarmName, alarmType, historyItemType, historyData"
	switch req.ItemType {
	case "":
	case HistoryConfigurationUpdate, HistoryStateUpdate, HistoryAction:
		q += fmt.Sprintf(" | filter historyItemType = %q", req.ItemType)
	default:
		return nil, fmt.Errorf("%w: historyItemType %q: want ConfigurationUpdate, StateUpdate or Action", ErrInvalid, req.ItemType)
	}
	q += fmt.Sprintf(" | sort @timestamp desc | limit %d", req.Limit)
	var groups []string
	if req.AlarmName != "" {
		groups = []string{req.AlarmName}
	}
	res, err := s.QueryHistory(ctx, tenant, q, groups, req.Start, req.End)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryItem, 0, len(res.Rows))
	for _, row := range res.Rows {
		it := HistoryItem{}
		for i, f := range res.Fields {
			v, _ := row[i].(string)
			switch f {
			case "@timestamp":
				it.Timestamp = timeOf(row[i])
			case "@message":
				it.HistorySummary = v
			case "alarmName":
				it.AlarmName = v
			case "alarmType":
				it.AlarmType = v
			case "historyItemType":
				it.HistoryItemType = v
			case "historyData":
				if v != "" && json.Valid([]byte(v)) {
					it.HistoryData = json.RawMessage(v)
				}
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// timeOf reads a @timestamp cell, which results carry as text.
func timeOf(v any) time.Time {
	t, _ := time.Parse(query.TimeFormat, fmt.Sprint(v))
	return t.UTC()
}

// QueryHistory runs a Logs Insights query over the alarm history (groups
// are alarm names; empty means every alarm).
func (s *Service) QueryHistory(ctx context.Context, tenant, src string, groups []string, start, end time.Time) (*query.Result, error) {
	if s.opts.History == nil {
		return nil, fmt.Errorf("alarm history is not kept by this server")
	}
	plan, err := insights.Compile(src, query.Logs)
	if err != nil {
		return nil, fmt.Errorf("%w: query: %w", ErrInvalid, err)
	}
	if end.IsZero() {
		end = s.opts.Now().Add(time.Minute)
	}
	if start.IsZero() {
		start = end.Add(-14 * 24 * time.Hour)
	}
	return query.Run(ctx, s.opts.History, plan, query.Request{
		Tenant: tenant, Dataset: eventstore.DatasetAlarmHistory, Groups: groups,
		Start: start.UnixNano(), End: end.UnixNano(), MaxRows: 10000,
	})
}
