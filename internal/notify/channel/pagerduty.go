package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// PagerDutyEventsURL is the Events API v2 endpoint.
const PagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty sends Events API v2 events to the integration whose routing
// key is the subscription's endpoint: ALARM triggers an incident, OK
// resolves it, both under a dedup key per alarm (its ARN), so one alarm is
// one incident however often it is notified.
type PagerDuty struct {
	Client *http.Client
	URL    string // default PagerDutyEventsURL
}

var pagerDutySeverities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}

// PagerDutyEvents returns the events d becomes, in order; an
// INSUFFICIENT_DATA change has none.
func PagerDutyEvents(d *Delivery) []map[string]any {
	if len(d.Alarms) == 0 {
		sev := d.Attributes["severity"]
		if !pagerDutySeverities[sev] {
			sev = "info"
		}
		summary := d.Subject
		if summary == "" {
			summary = d.Message
		}
		return []map[string]any{{
			"routing_key": d.Endpoint, "event_action": "trigger", "dedup_key": d.MessageID,
			"payload": map[string]any{
				"summary": truncate(summary, 1024), "source": "mirador/" + d.Tenant, "severity": sev,
				"timestamp": d.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z"), "custom_details": map[string]any{"message": d.Message, "topic": d.TopicARN},
			},
			"client": "Mirador",
		}}
	}
	var out []map[string]any
	for _, a := range d.Alarms {
		key := truncate(a.AlarmARN, 255)
		switch a.NewState {
		case StateOK:
			out = append(out, map[string]any{"routing_key": d.Endpoint, "event_action": "resolve", "dedup_key": key})
		case StateAlarm:
			sev := a.Labels["severity"]
			if !pagerDutySeverities[sev] {
				sev = "critical"
			}
			ev := map[string]any{
				"routing_key": d.Endpoint, "event_action": "trigger", "dedup_key": key,
				"payload": map[string]any{
					"summary":   truncate(fmt.Sprintf("ALARM: %q — %s", a.AlarmName, a.Reason), 1024),
					"source":    "mirador/" + d.Tenant,
					"severity":  sev,
					"timestamp": a.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
					"custom_details": map[string]any{
						"alarm": a.AlarmName, "description": a.AlarmDescription, "old_state": a.OldState, "new_state": a.NewState,
						"reason": a.Reason, "labels": a.Labels, "repeat": a.Repeat, "flapping": a.Flapping,
					},
				},
				"client": "Mirador",
			}
			if a.Link != "" {
				ev["client_url"] = a.Link
				ev["links"] = []map[string]string{{"href": a.Link, "text": "Open in Mirador"}}
			}
			out = append(out, ev)
		}
	}
	return out
}

// Send posts d's events. PagerDuty answers 202; 400 (an invalid event)
// is permanent, 429 and 5xx are retried. The result is the first
// failure, or success.
func (p PagerDuty) Send(ctx context.Context, d *Delivery) Result {
	if d.Endpoint == "" {
		return Result{Err: ErrNoEndpoint, Permanent: true}
	}
	url := p.URL
	if url == "" {
		url = PagerDutyEventsURL
	}
	events := PagerDutyEvents(d)
	if len(events) == 0 {
		return Result{Note: "PagerDuty has no event for INSUFFICIENT_DATA; nothing was sent"}
	}
	var last Result
	for _, ev := range events {
		body, err := json.Marshal(ev)
		if err != nil {
			return Result{Err: fmt.Errorf("encode PagerDuty event: %w", err), Permanent: true}
		}
		if last = Post(ctx, p.Client, url, "application/json", nil, body); last.Err != nil {
			return last
		}
	}
	return last
}
