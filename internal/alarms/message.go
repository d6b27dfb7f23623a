package alarms

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/alarms/eval"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/filterpolicy"
)

// cloudwatchTime is the timestamp format of CloudWatch's alarm messages.
const cloudwatchTime = "2006-01-02T15:04:05.000-0700"

// snsMessage is the JSON CloudWatch publishes to SNS for an alarm state
// change; receivers written for CloudWatch parse it unchanged.
type snsMessage struct {
	AlarmName                          string       `json:"AlarmName"`
	AlarmDescription                   *string      `json:"AlarmDescription"`
	AWSAccountID                       string       `json:"AWSAccountId"`
	AlarmConfigurationUpdatedTimestamp string       `json:"AlarmConfigurationUpdatedTimestamp"`
	NewStateValue                      eval.State   `json:"NewStateValue"`
	NewStateReason                     string       `json:"NewStateReason"`
	StateChangeTime                    string       `json:"StateChangeTime"`
	Region                             string       `json:"Region"`
	AlarmArn                           string       `json:"AlarmArn"`
	OldStateValue                      eval.State   `json:"OldStateValue"`
	OKActions                          []string     `json:"OKActions"`
	AlarmActions                       []string     `json:"AlarmActions"`
	InsufficientDataActions            []string     `json:"InsufficientDataActions"`
	Trigger                            *snsTrigger  `json:"Trigger,omitempty"`
	AlarmRule                          string       `json:"AlarmRule,omitempty"`
	Mirador                            *miradorNote `json:"Mirador,omitempty"`
}

type snsTrigger struct {
	MetricName                       string         `json:"MetricName,omitempty"`
	Namespace                        string         `json:"Namespace,omitempty"`
	StatisticType                    string         `json:"StatisticType"`
	Statistic                        string         `json:"Statistic"`
	Unit                             *string        `json:"Unit"`
	Dimensions                       []snsDimension `json:"Dimensions"`
	Period                           int            `json:"Period"`
	EvaluationPeriods                int            `json:"EvaluationPeriods"`
	DatapointsToAlarm                int            `json:"DatapointsToAlarm"`
	ComparisonOperator               string         `json:"ComparisonOperator"`
	Threshold                        float64        `json:"Threshold"`
	TreatMissingData                 string         `json:"TreatMissingData"`
	EvaluateLowSampleCountPercentile string         `json:"EvaluateLowSampleCountPercentile"`
	Query                            string         `json:"Query,omitempty"`
}

type snsDimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

// miradorNote carries what CloudWatch's message has no field for.
type miradorNote struct {
	Repeat   bool              `json:"Repeat,omitempty"`
	Flapping bool              `json:"Flapping,omitempty"`
	Link     string            `json:"Link,omitempty"`
	Labels   map[string]string `json:"Labels,omitempty"`
}

// notification is one alarm notification to send.
type notification struct {
	old, new eval.State
	reason   string
	at       time.Time
	repeat   bool
	flapping bool
	topics   []string
}

// message builds the notification's message in CloudWatch's SNS shape.
func (s *Service) message(tenant string, r *record, n notification) notify.Message {
	a := &r.cfg
	m := snsMessage{
		AlarmName: a.Name, AWSAccountID: s.opts.AccountID, Region: s.opts.Region, AlarmArn: s.ARN(a.Name),
		AlarmConfigurationUpdatedTimestamp: r.updatedAt.UTC().Format(cloudwatchTime),
		NewStateValue:                      n.new, OldStateValue: n.old, NewStateReason: n.reason,
		StateChangeTime: n.at.UTC().Format(cloudwatchTime),
		OKActions:       s.topicARNs(a.OKActions), AlarmActions: s.topicARNs(a.AlarmActions),
		InsufficientDataActions: s.topicARNs(a.InsufficientDataActions),
		AlarmRule:               a.Rule,
	}
	if a.Description != "" {
		m.AlarmDescription = &a.Description
	}
	if a.Kind == KindMetric {
		t := &snsTrigger{
			StatisticType: "Statistic", Statistic: "VALUE", Dimensions: []snsDimension{},
			Period: a.PeriodSeconds, EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm,
			ComparisonOperator: string(a.ComparisonOperator), Threshold: a.Threshold,
			TreatMissingData: string(a.TreatMissingData), EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile,
			Query: a.Query,
		}
		if stat := a.Metric; stat != nil {
			t.MetricName, t.Namespace, t.Statistic = stat.MetricName, stat.Namespace, strings.ToUpper(stat.Statistic)
			if strings.HasPrefix(stat.Statistic, "p") {
				t.StatisticType, t.Statistic = "ExtendedStatistic", stat.Statistic
			}
			for k, v := range stat.Dimensions {
				t.Dimensions = append(t.Dimensions, snsDimension{Value: v, Name: k})
			}
		}
		m.Trigger = t
	}
	link := s.link(a.Name)
	if n.repeat || n.flapping || link != "" || len(a.Labels) > 0 {
		m.Mirador = &miradorNote{Repeat: n.repeat, Flapping: n.flapping, Link: link, Labels: a.Labels}
	}
	body, _ := json.Marshal(m)
	subject := fmt.Sprintf("%s: %q", n.new, a.Name)
	switch {
	case n.flapping:
		subject = fmt.Sprintf("FLAPPING: %q", a.Name)
	case n.repeat:
		subject = fmt.Sprintf("STILL %s: %q", n.new, a.Name)
	}
	subject = truncateRunes(subject, notify.MaxSubjectChars)
	attrs := map[string]filterpolicy.Attribute{
		"AlarmName":     {DataType: "String", Value: a.Name},
		"NewStateValue": {DataType: "String", Value: string(n.new)},
		"OldStateValue": {DataType: "String", Value: string(n.old)},
	}
	for k, v := range a.Labels {
		if len(attrs) == notify.MaxAttributes {
			break
		}
		attrs[k] = filterpolicy.Attribute{DataType: "String", Value: v}
	}
	return notify.Message{
		Subject: subject, Body: string(body), Attributes: attrs,
		Alarms: []channel.AlarmChange{{
			AlarmName: a.Name, AlarmDescription: a.Description, AlarmARN: s.ARN(a.Name),
			OldState: string(n.old), NewState: string(n.new), Reason: n.reason, Time: n.at,
			Link: link, Repeat: n.repeat, Flapping: n.flapping, Labels: a.Labels,
		}},
	}
}

func (s *Service) topicARNs(topics []string) []string {
	out := make([]string, len(topics))
	for i, t := range topics {
		out[i] = s.opts.Notify.TopicARN(t)
	}
	return out
}

// ARN returns an alarm's ARN.
func (s *Service) ARN(name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", s.opts.Region, s.opts.AccountID, name)
}

func (s *Service) link(name string) string {
	if s.opts.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.opts.PublicURL, "/") + "/api/v1/alarms/" + url.PathEscape(name)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
