package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/miradorhq/mirador/internal/notify/envelope"
)

// Webhook POSTs SNS's HTTP delivery envelope, signed with HMAC-SHA256
// under the subscription's secret (see package envelope). With Raw, the
// body is the bare message, as SNS's RawMessageDelivery; the headers still
// carry the message id and the signature of the envelope.
type Webhook struct {
	Client *http.Client
}

// Send delivers d to d.Endpoint.
func (w Webhook) Send(ctx context.Context, d *Delivery) Result {
	if d.Endpoint == "" {
		return Result{Err: ErrNoEndpoint, Permanent: true}
	}
	env := Envelope(d)
	env.Sign([]byte(d.Secret))
	body, err := json.Marshal(env)
	if err != nil {
		return Result{Err: fmt.Errorf("encode envelope: %w", err), Permanent: true}
	}
	headers := map[string]string{
		"x-amz-sns-message-type": env.Type,
		"x-amz-sns-message-id":   env.MessageID,
		"x-amz-sns-topic-arn":    env.TopicArn,
		envelope.SignatureHeader: env.Signature,
	}
	if d.Type == TypeNotification {
		headers["x-amz-sns-subscription-arn"] = d.SubscriptionARN
		if d.Raw {
			body = []byte(d.Message)
		}
	}
	return Post(ctx, w.Client, d.Endpoint, "text/plain; charset=UTF-8", headers, body)
}

// Envelope returns d as an unsigned SNS-shaped envelope.
func Envelope(d *Delivery) *envelope.Envelope {
	env := &envelope.Envelope{
		Type:      d.Type,
		MessageID: d.MessageID,
		TopicArn:  d.TopicARN,
		Subject:   d.Subject,
		Message:   d.Message,
		Timestamp: envelope.Timestamp(d.Timestamp),
	}
	if d.Type == TypeSubscriptionConfirmation {
		env.Token, env.SubscribeURL, env.Subject = d.Token, d.SubscribeURL, ""
	}
	if len(d.Attributes) > 0 {
		env.MessageAttributes = make(map[string]envelope.Attribute, len(d.Attributes))
		for k, v := range d.Attributes {
			env.MessageAttributes[k] = envelope.Attribute{Type: "String", Value: v}
		}
	}
	return env
}
