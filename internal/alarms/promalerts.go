package alarms

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/metrics"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/filterpolicy"
)

// amAlert and amMessage are Alertmanager's webhook payload (version 4),
// which receivers of Prometheus alerts already parse.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type amMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

// PrometheusAlertsMessage is the message published for alert changes of
// Prometheus rule files: Alertmanager's webhook payload as the body, and
// each alert as an alarm change for the senders that format for people
// (the alert name as the alarm, firing as ALARM, resolved as OK).
func PrometheusAlertsMessage(topic, externalURL string, alerts []metrics.Alert) notify.Message {
	m := amMessage{Version: "4", Status: "resolved", Receiver: topic, ExternalURL: externalURL, GroupLabels: map[string]string{}}
	var changes []channel.AlarmChange
	for i, a := range alerts {
		if a.Status == "firing" {
			m.Status = "firing"
		}
		m.Alerts = append(m.Alerts, amAlert{Status: a.Status, Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint})
		if i == 0 {
			m.CommonLabels, m.CommonAnnotations = maps.Clone(a.Labels), maps.Clone(a.Annotations)
		} else {
			m.CommonLabels, m.CommonAnnotations = common(m.CommonLabels, a.Labels), common(m.CommonAnnotations, a.Annotations)
		}
		c := channel.AlarmChange{
			AlarmName: a.Labels["alertname"], AlarmARN: "prometheus-alert:" + a.Fingerprint,
			OldState: channel.StateOK, NewState: channel.StateAlarm, Time: a.StartsAt,
			Reason: firstOf(a.Annotations["summary"], a.Annotations["description"], "firing"),
			Link:   a.GeneratorURL, Labels: a.Labels, AlarmDescription: a.Annotations["description"],
		}
		if a.Status == "resolved" {
			c.OldState, c.NewState, c.Time, c.Reason = channel.StateAlarm, channel.StateOK, a.EndsAt, "resolved"
		}
		changes = append(changes, c)
	}
	if name, ok := m.CommonLabels["alertname"]; ok {
		m.GroupLabels["alertname"] = name
	}
	m.GroupKey = fmt.Sprintf("{}:{%s}", labelString(m.GroupLabels))
	body, _ := json.Marshal(m)
	subject := fmt.Sprintf("[%s] %s", strings.ToUpper(m.Status), firstOf(m.GroupLabels["alertname"], fmt.Sprintf("%d alerts", len(alerts))))
	attrs := map[string]filterpolicy.Attribute{"status": {DataType: "String", Value: m.Status}}
	for _, k := range []string{"alertname", "severity"} {
		if v := m.CommonLabels[k]; v != "" {
			attrs[k] = filterpolicy.Attribute{DataType: "String", Value: v}
		}
	}
	return notify.Message{Subject: truncateRunes(subject, notify.MaxSubjectChars), Body: string(body), Attributes: attrs, Alarms: changes}
}

func common(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if b[k] == v {
			out[k] = v
		}
	}
	return out
}

func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return strings.Join(parts, ",")
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
