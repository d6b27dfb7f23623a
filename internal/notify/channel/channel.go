package channel

import (
	"context"
	"errors"
	"time"
)

// States of an alarm as they appear in notifications.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Message types, as in SNS's x-amz-sns-message-type header.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
)

// AlarmChange describes one alarm state change (or a repeat of a state the
// alarm stays in) that a notification reports. Senders that format for
// people (Slack, e-mail, PagerDuty) build their text from it.
type AlarmChange struct {
	AlarmName        string    `json:"alarmName"`
	AlarmDescription string    `json:"alarmDescription,omitempty"`
	AlarmARN         string    `json:"alarmArn"`
	OldState         string    `json:"oldState"`
	NewState         string    `json:"newState"`
	Reason           string    `json:"reason"`
	Time             time.Time `json:"time"`
	// Link is a URL where a person can see the alarm; empty when the
	// server has no public URL configured.
	Link string `json:"link,omitempty"`
	// Repeat is set when the alarm stayed in NewState and this is a
	// reminder (the alarm's repeat interval elapsed).
	Repeat bool `json:"repeat,omitempty"`
	// Flapping is set when the alarm changes state too often and further
	// notifications are held until it settles; the text must say so.
	Flapping bool `json:"flapping,omitempty"`
	// Labels are the labels of a Prometheus alert, or an alarm's tags.
	Labels map[string]string `json:"labels,omitempty"`
}

// Delivery is one message on its way to one subscription. The outbox fills
// it from its row; the same MessageID is used on every attempt, so a
// receiver can drop duplicates.
type Delivery struct {
	MessageID       string // idempotency key, stable across attempts and restarts
	Type            string // TypeNotification or TypeSubscriptionConfirmation
	Tenant          string
	TopicARN        string
	SubscriptionARN string
	Protocol        string
	Endpoint        string // URL, e-mail address, PagerDuty routing key or log group
	Secret          string // per-subscription signing secret (webhook)
	Raw             bool   // deliver the bare message, without the envelope (webhook)
	Subject         string
	Message         string // the body: for alarms, the SNS-style alarm JSON
	Attributes      map[string]string
	Timestamp       time.Time // when the message was published, not when sent
	Attempt         int       // 1 for the first attempt
	// Alarms is set when the message reports alarm changes; more than one
	// when the topic groups notifications within a window.
	Alarms []AlarmChange
	// Token and SubscribeURL are set on a SubscriptionConfirmation.
	Token        string
	SubscribeURL string
}

// Result is the outcome of one attempt.
type Result struct {
	// Status is the HTTP status code, or the SMTP reply code, when the
	// endpoint answered; 0 otherwise.
	Status int
	// Err is nil when the message was delivered.
	Err error
	// Permanent marks a failure that retrying cannot fix (an HTTP 4xx
	// other than 408 and 429, an SMTP 5xx, a refused address): the outbox
	// dead-letters at once.
	Permanent bool
	// Note says what happened when there is something to say on success,
	// e.g. that PagerDuty has no event for INSUFFICIENT_DATA.
	Note string
}

// A Sender delivers to one protocol. Send must honour ctx's deadline and be
// safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, d *Delivery) Result
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, d *Delivery) Result

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, d *Delivery) Result { return f(ctx, d) }

// ErrNoEndpoint is returned for a Delivery without an endpoint.
var ErrNoEndpoint = errors.New("subscription has no endpoint")
