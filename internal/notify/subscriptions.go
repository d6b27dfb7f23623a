package notify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/filterpolicy"
)

// Subscription states.
const (
	StatusPending   = "pending"   // waiting for the endpoint to confirm
	StatusConfirmed = "confirmed" // receiving messages
)

// ConfirmationValidity is how long a confirmation token stays valid, as
// SNS's (two days).
const ConfirmationValidity = 48 * time.Hour

// Subscription sends a topic's messages to one endpoint.
type Subscription struct {
	ID       string `json:"id"`
	ARN      string `json:"arn"`
	Topic    string `json:"topic"`
	Protocol string `json:"protocol"`
	// Endpoint is a URL (webhook, slack), an e-mail address, a PagerDuty
	// routing key or a log group name.
	Endpoint     string       `json:"endpoint"`
	FilterPolicy string       `json:"filterPolicy,omitempty"`
	FilterScope  string       `json:"filterPolicyScope,omitempty"`
	RetryPolicy  *RetryPolicy `json:"retryPolicy,omitempty"`
	// RawMessageDelivery sends webhooks the bare message, without the
	// envelope.
	RawMessageDelivery bool `json:"rawMessageDelivery,omitempty"`
	// Confirm asks the endpoint to confirm before it receives anything
	// (webhooks only): it is sent a SubscriptionConfirmation with a token
	// and a URL to GET.
	Confirm bool   `json:"confirm,omitempty"`
	Status  string `json:"status"`
	// Secret signs webhook deliveries. It is returned when the
	// subscription is created (generated if not given) and never again.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

var routingKey = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// validate checks what a subscription may be, naming the field.
func (s *Service) validate(ctx context.Context, sub *Subscription) error {
	if _, ok := s.opts.Senders[sub.Protocol]; !ok {
		var have []string
		for _, p := range Protocols {
			if _, ok := s.opts.Senders[p]; ok {
				have = append(have, p)
			}
		}
		hint := ""
		if sub.Protocol == ProtocolEmail && slices.Contains(Protocols, sub.Protocol) {
			hint = " (e-mail needs notify.smtp.addr and notify.smtp.from in the configuration)"
		}
		return fmt.Errorf("%w: protocol %q: want one of %s%s", ErrInvalid, sub.Protocol, strings.Join(have, ", "), hint)
	}
	switch sub.Protocol {
	case ProtocolWebhook, ProtocolSlack:
		if err := s.opts.URLPolicy.CheckURL(ctx, sub.Endpoint, s.opts.Resolver); err != nil {
			return fmt.Errorf("%w: endpoint: %v", ErrInvalid, err)
		}
	case ProtocolEmail:
		a, err := mail.ParseAddress(sub.Endpoint)
		if err != nil {
			return fmt.Errorf("%w: endpoint %q is not an e-mail address: %v", ErrInvalid, sub.Endpoint, err)
		}
		sub.Endpoint = a.Address
	case ProtocolPagerDuty:
		if !routingKey.MatchString(sub.Endpoint) {
			return fmt.Errorf("%w: endpoint: a PagerDuty integration (routing) key of letters and digits is required", ErrInvalid)
		}
	case ProtocolLog:
		if s.opts.ValidateLogGroup != nil {
			if err := s.opts.ValidateLogGroup(sub.Endpoint); err != nil {
				return fmt.Errorf("%w: endpoint: %v", ErrInvalid, err)
			}
		}
	}
	if sub.Confirm && sub.Protocol != ProtocolWebhook {
		return fmt.Errorf("%w: confirm: only webhook subscriptions have a confirmation handshake", ErrInvalid)
	}
	if sub.RawMessageDelivery && sub.Protocol != ProtocolWebhook {
		return fmt.Errorf("%w: rawMessageDelivery: only for webhook subscriptions", ErrInvalid)
	}
	switch sub.FilterScope {
	case "":
		sub.FilterScope = string(filterpolicy.MessageAttributes)
	case string(filterpolicy.MessageAttributes), string(filterpolicy.MessageBody):
	default:
		return fmt.Errorf("%w: filterPolicyScope %q: want MessageAttributes or MessageBody", ErrInvalid, sub.FilterScope)
	}
	if sub.FilterPolicy != "" {
		if _, err := filterpolicy.Parse([]byte(sub.FilterPolicy), filterpolicy.Scope(sub.FilterScope)); err != nil {
			return fmt.Errorf("%w: filterPolicy: %v", ErrInvalid, err)
		}
	}
	if sub.RetryPolicy != nil {
		if err := sub.RetryPolicy.Validate(); err != nil {
			return err
		}
	}
	if len(sub.Secret) > 256 {
		return fmt.Errorf("%w: secret: at most 256 characters", ErrInvalid)
	}
	return nil
}

// Subscribe adds a subscription to a topic. A webhook with Confirm starts
// pending and is sent a SubscriptionConfirmation; every other subscription
// is confirmed at once. The returned Subscription carries the secret.
func (s *Service) Subscribe(ctx context.Context, tenant, topic string, sub Subscription) (Subscription, error) {
	t, err := s.Topic(ctx, tenant, topic)
	if err != nil {
		return Subscription{}, err
	}
	sub.Topic = t.Name
	if err := s.validate(ctx, &sub); err != nil {
		return Subscription{}, err
	}
	sub.ID = newID()
	sub.ARN = s.SubscriptionARN(t.Name, sub.ID)
	sub.CreatedAt = s.opts.Now().UTC().Truncate(time.Millisecond)
	if sub.Secret == "" && sub.Protocol == ProtocolWebhook {
		sub.Secret = randomToken(32)
	}
	sub.Status = StatusConfirmed
	var token, tokenHash string
	if sub.Confirm {
		sub.Status = StatusPending
		token = randomToken(32)
		tokenHash = hashToken(token)
	}
	retry := ""
	if sub.RetryPolicy != nil {
		b, _ := json.Marshal(sub.RetryPolicy)
		retry = string(b)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (tenant_id, id, topic, protocol, endpoint, secret, filter_policy, filter_scope, retry_policy, raw_delivery, status, token_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			tenant, sub.ID, sub.Topic, sub.Protocol, sub.Endpoint, sub.Secret, sub.FilterPolicy, sub.FilterScope, retry, boolInt(sub.RawMessageDelivery), sub.Status, tokenHash, meta.Millis(sub.CreatedAt))
		if err != nil || !sub.Confirm {
			return err
		}
		confirm := s.confirmURL(tenant, sub.ID, token)
		_, err = s.insertRows(ctx, tx, tenant, t, []Subscription{sub}, newID(), channel.TypeSubscriptionConfirmation, payload{
			Message: fmt.Sprintf("You have chosen to subscribe to the topic %s.\nTo confirm the subscription, visit the SubscribeURL included in this message.", t.ARN),
			Token:   token, SubscribeURL: confirm,
		})
		return err
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("subscribe to %s: %w", t.Name, err)
	}
	s.Wake()
	return sub, nil
}

func (s *Service) confirmURL(tenant, id, token string) string {
	q := url.Values{"tenant": {tenant}, "id": {id}, "token": {token}}
	return strings.TrimSuffix(s.opts.PublicURL, "/") + "/api/v1/subscriptions/confirm?" + q.Encode()
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Confirm confirms a pending subscription with the token its endpoint was
// sent. Confirming twice is not an error.
func (s *Service) Confirm(ctx context.Context, tenant, id, token string) (Subscription, error) {
	sub, hash, err := s.subscription(ctx, s.db, tenant, id)
	if err != nil {
		return Subscription{}, err
	}
	if sub.Status == StatusConfirmed {
		return sub, nil
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashToken(token))) != 1 {
		return Subscription{}, ErrBadToken
	}
	if s.opts.Now().Sub(sub.CreatedAt) > ConfirmationValidity {
		return Subscription{}, fmt.Errorf("%w: tokens are valid for %s; subscribe again", ErrBadToken, ConfirmationValidity)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET status = $3, token_hash = '' WHERE tenant_id = $1 AND id = $2`, tenant, id, StatusConfirmed); err != nil {
		return Subscription{}, err
	}
	sub.Status = StatusConfirmed
	return sub, nil
}

const subscriptionColumns = `id, topic, protocol, endpoint, secret, filter_policy, filter_scope, retry_policy, raw_delivery, status, token_hash, created_at`

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Service) scanSubscription(row interface{ Scan(...any) error }) (sub Subscription, tokenHash string, err error) {
	var retry string
	var raw int
	var created int64
	if err := row.Scan(&sub.ID, &sub.Topic, &sub.Protocol, &sub.Endpoint, &sub.Secret, &sub.FilterPolicy, &sub.FilterScope, &retry, &raw, &sub.Status, &tokenHash, &created); err != nil {
		return Subscription{}, "", err
	}
	if retry != "" {
		sub.RetryPolicy = new(RetryPolicy)
		if err := json.Unmarshal([]byte(retry), sub.RetryPolicy); err != nil {
			return Subscription{}, "", fmt.Errorf("subscription %s: retry policy: %w", sub.ID, err)
		}
	}
	sub.RawMessageDelivery = raw != 0
	sub.Confirm = tokenHash != "" || sub.Status == StatusPending
	sub.ARN = s.SubscriptionARN(sub.Topic, sub.ID)
	sub.CreatedAt = meta.FromMillis(created)
	return sub, tokenHash, nil
}

// subscription reads one subscription, secret included.
func (s *Service) subscription(ctx context.Context, q queryer, tenant, id string) (Subscription, string, error) {
	sub, hash, err := s.scanSubscription(q.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE tenant_id = $1 AND id = $2`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, "", fmt.Errorf("%w: %s", ErrSubscriptionNotFound, id)
	}
	return sub, hash, err
}

// Subscription returns one subscription, without its secret.
func (s *Service) Subscription(ctx context.Context, tenant, id string) (Subscription, error) {
	sub, _, err := s.subscription(ctx, s.db, tenant, id)
	sub.Secret = ""
	return sub, err
}

// Subscriptions lists a topic's subscriptions (all of the tenant's when
// topic is empty), without secrets.
func (s *Service) Subscriptions(ctx context.Context, tenant, topic string) ([]Subscription, error) {
	q, args := `SELECT `+subscriptionColumns+` FROM subscriptions WHERE tenant_id = $1`, []any{tenant}
	if topic != "" {
		t, err := s.Topic(ctx, tenant, topic)
		if err != nil {
			return nil, err
		}
		q, args = q+` AND topic = $2`, append(args, t.Name)
	}
	subs, err := s.listSubscriptions(ctx, s.db, q+` ORDER BY created_at, id`, args...)
	for i := range subs {
		subs[i].Secret = ""
	}
	return subs, err
}

func (s *Service) listSubscriptions(ctx context.Context, q queryer, query string, args ...any) ([]Subscription, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, _, err := s.scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Unsubscribe deletes a subscription. Its messages still in the outbox are
// dead-lettered when they come due.
func (s *Service) Unsubscribe(ctx context.Context, tenant, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscriptions WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrSubscriptionNotFound, id)
	}
	return nil
}
