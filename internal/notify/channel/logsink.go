package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// LogAppender stores one record in a tenant's log group.
type LogAppender interface {
	AppendLog(ctx context.Context, tenant, group string, t time.Time, body string, attrs map[string]string) error
}

// LogSink appends each notification to a log group (the subscription's
// endpoint) as one JSON record, so notifications can be searched like any
// log: the message id, topic, subject, message and alarm changes.
type LogSink struct {
	Logs LogAppender
}

// Send appends d to its log group.
func (l LogSink) Send(ctx context.Context, d *Delivery) Result {
	if d.Endpoint == "" {
		return Result{Err: ErrNoEndpoint, Permanent: true}
	}
	body, err := json.Marshal(struct {
		MessageID string            `json:"messageId"`
		Type      string            `json:"type"`
		Topic     string            `json:"topicArn"`
		Subject   string            `json:"subject,omitempty"`
		Message   string            `json:"message"`
		Attrs     map[string]string `json:"messageAttributes,omitempty"`
		Alarms    []AlarmChange     `json:"alarms,omitempty"`
	}{d.MessageID, d.Type, d.TopicARN, d.Subject, d.Message, d.Attributes, d.Alarms})
	if err != nil {
		return Result{Err: fmt.Errorf("encode record: %w", err), Permanent: true}
	}
	attrs := map[string]string{"message_id": d.MessageID, "topic_arn": d.TopicARN}
	if err := l.Logs.AppendLog(ctx, d.Tenant, d.Endpoint, d.Timestamp, string(body), attrs); err != nil {
		return Result{Err: err}
	}
	return Result{}
}
