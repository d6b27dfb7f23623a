package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/filterpolicy"
)

// Limits of a published message, as SNS's.
const (
	MaxMessageBytes = 256 * 1024
	MaxSubjectChars = 100
	MaxAttributes   = 10
)

// Outbox row states.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateDead      = "dead"
)

// Message is what is published to a topic.
type Message struct {
	Subject    string
	Body       string
	Attributes map[string]filterpolicy.Attribute
	// Alarms are the alarm changes the message reports, for senders that
	// format for people.
	Alarms []channel.AlarmChange
}

// Validate checks m against SNS's limits.
func (m *Message) Validate() error {
	switch {
	case m.Body == "":
		return fmt.Errorf("%w: message: must not be empty", ErrInvalid)
	case len(m.Body) > MaxMessageBytes:
		return fmt.Errorf("%w: message: %d bytes, at most %d", ErrInvalid, len(m.Body), MaxMessageBytes)
	case utf8.RuneCountInString(m.Subject) > MaxSubjectChars:
		return fmt.Errorf("%w: subject: at most %d characters", ErrInvalid, MaxSubjectChars)
	case len(m.Attributes) > MaxAttributes:
		return fmt.Errorf("%w: messageAttributes: at most %d", ErrInvalid, MaxAttributes)
	}
	for _, r := range m.Subject {
		if r < 0x20 {
			return fmt.Errorf("%w: subject: no line breaks or control characters", ErrInvalid)
		}
	}
	for k, a := range m.Attributes {
		switch a.DataType {
		case "String", "Number", "String.Array":
		default:
			return fmt.Errorf("%w: messageAttributes.%s.dataType %q: want String, Number or String.Array", ErrInvalid, k, a.DataType)
		}
	}
	return nil
}

// payload is an outbox row's message, as JSON.
type payload struct {
	Subject      string                            `json:"subject,omitempty"`
	Message      string                            `json:"message"`
	Attributes   map[string]filterpolicy.Attribute `json:"attributes,omitempty"`
	Alarms       []channel.AlarmChange             `json:"alarms,omitempty"`
	Token        string                            `json:"token,omitempty"`
	SubscribeURL string                            `json:"subscribeUrl,omitempty"`
	Published    int64                             `json:"published"` // unix ms
}

// Publish sends m to every confirmed subscription of topic whose filter
// policy it passes. It returns the message id, the same for every
// subscription and every attempt, and how many deliveries were queued.
func (s *Service) Publish(ctx context.Context, tenant, topic string, m Message) (id string, queued int, err error) {
	if err := m.Validate(); err != nil {
		return "", 0, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		id, queued, err = s.Enqueue(ctx, tx, tenant, topic, m)
		return err
	})
	if err != nil {
		return "", 0, err
	}
	s.Wake()
	return id, queued, nil
}

// Enqueue writes m's outbox rows within tx, the caller's transaction, so
// they commit with whatever caused the message (an alarm's state change).
// The caller calls Wake after committing. It fails with ErrTopicNotFound
// for an unknown topic.
func (s *Service) Enqueue(ctx context.Context, tx *sql.Tx, tenant, topic string, m Message) (id string, queued int, err error) {
	name, err := ParseTopic(topic)
	if err != nil {
		return "", 0, err
	}
	t, err := s.scanTopic(tx.QueryRowContext(ctx, `SELECT `+topicColumns+` FROM topics t WHERE t.tenant_id = $1 AND t.name = $2`, tenant, name))
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, fmt.Errorf("%w: %s", ErrTopicNotFound, name)
	}
	if err != nil {
		return "", 0, err
	}
	subs, err := s.listSubscriptions(ctx, tx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE tenant_id = $1 AND topic = $2 AND status = $3`, tenant, name, StatusConfirmed)
	if err != nil {
		return "", 0, err
	}
	matching := subs[:0]
	for _, sub := range subs {
		if sub.FilterPolicy == "" || s.passes(sub, m) {
			matching = append(matching, sub)
		}
	}
	id = newID()
	queued, err = s.insertRows(ctx, tx, tenant, t, matching, id, channel.TypeNotification, payload{
		Subject: m.Subject, Message: m.Body, Attributes: m.Attributes, Alarms: m.Alarms,
	})
	return id, queued, err
}

// passes reports whether m passes sub's filter policy. Policies are
// parsed once and kept (a subscription's policy never changes). A policy
// that no longer parses (it was valid when stored) lets nothing through.
func (s *Service) passes(sub Subscription, m Message) bool {
	key := sub.FilterScope + "\x00" + sub.FilterPolicy
	cached, ok := s.policies.Load(key)
	if !ok {
		p, err := filterpolicy.Parse([]byte(sub.FilterPolicy), filterpolicy.Scope(sub.FilterScope))
		if err != nil {
			p = nil
		}
		cached, _ = s.policies.LoadOrStore(key, p)
	}
	p := cached.(*filterpolicy.Policy)
	if p == nil {
		return false
	}
	if sub.FilterScope == string(filterpolicy.MessageBody) {
		return p.MatchBody([]byte(m.Body))
	}
	return p.MatchAttributes(m.Attributes)
}

// insertRows writes one pending row per subscription. Notifications to a
// topic with a grouping window join the subscription's open group, or
// open one due when the window ends.
func (s *Service) insertRows(ctx context.Context, tx *sql.Tx, tenant string, t Topic, subs []Subscription, id, kind string, p payload) (int, error) {
	now := s.opts.Now()
	p.Published = meta.Millis(now)
	body, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	for _, sub := range subs {
		due, group := meta.Millis(now), ""
		if t.GroupWindow > 0 && kind == channel.TypeNotification {
			err := tx.QueryRowContext(ctx, `SELECT group_key, next_attempt_at FROM outbox
				WHERE tenant_id = $1 AND subscription_id = $2 AND state = $3 AND group_key <> '' AND attempts = 0 AND next_attempt_at > $4
				LIMIT 1`, tenant, sub.ID, StatePending, meta.Millis(now)).Scan(&group, &due)
			if errors.Is(err, sql.ErrNoRows) {
				group, due = id, meta.Millis(now.Add(t.GroupWindow))
			} else if err != nil {
				return 0, err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO outbox (tenant_id, message_id, seq, subscription_id, topic, kind, payload, group_key, state, attempts, next_attempt_at, last_error, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, '', $11, $11)`,
			tenant, id, s.nextSeq(), sub.ID, t.Name, kind, string(body), group, StatePending, due, meta.Millis(now))
		if err != nil {
			return 0, fmt.Errorf("write outbox: %w", err)
		}
	}
	s.enqueued.WithLabelValues(tenant).Add(float64(len(subs)))
	return len(subs), nil
}

// nextSeq numbers outbox rows in the order they are written: wall-clock
// nanoseconds, made strictly increasing, so the order holds across
// restarts too.
func (s *Service) nextSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = max(s.seq+1, time.Now().UnixNano())
	return s.seq
}

// Attempt is one delivery attempt as recorded.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"statusCode,omitempty"`
	LatencyMS  float64   `json:"latencyMs"`
	Error      string    `json:"error,omitempty"`
}

// DeliveryRecord is one message's delivery to one subscription: where it
// stands and every attempt made.
type DeliveryRecord struct {
	MessageID      string    `json:"messageId"`
	SubscriptionID string    `json:"subscriptionId"`
	Topic          string    `json:"topic"`
	Type           string    `json:"type"`
	Subject        string    `json:"subject,omitempty"`
	State          string    `json:"state"`
	Attempts       []Attempt `json:"attempts"`
	NextAttemptAt  time.Time `json:"nextAttemptAt,omitzero"`
	LastError      string    `json:"lastError,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
}

// DeliveryFilter narrows Deliveries.
type DeliveryFilter struct {
	Topic, State, MessageID string
	Limit                   int // default 100, at most 1000
}

// Deliveries lists a tenant's outbox rows, newest first, with their
// attempts.
func (s *Service) Deliveries(ctx context.Context, tenant string, f DeliveryFilter) ([]DeliveryRecord, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := `SELECT message_id, subscription_id, topic, kind, payload, state, next_attempt_at, last_error, created_at FROM outbox WHERE tenant_id = $1`
	args := []any{tenant}
	for _, c := range []struct{ col, v string }{{"topic", f.Topic}, {"state", f.State}, {"message_id", f.MessageID}} {
		if c.v != "" {
			args = append(args, c.v)
			q += fmt.Sprintf(" AND %s = $%d", c.col, len(args))
		}
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", f.Limit)
	// One read transaction, so the rows and their attempts are one snapshot.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := []DeliveryRecord{}
	for rows.Next() {
		var d DeliveryRecord
		var body string
		var next, created int64
		if err := rows.Scan(&d.MessageID, &d.SubscriptionID, &d.Topic, &d.Type, &body, &d.State, &next, &d.LastError, &created); err != nil {
			rows.Close()
			return nil, err
		}
		var p payload
		_ = json.Unmarshal([]byte(body), &p)
		d.Subject, d.CreatedAt = p.Subject, meta.FromMillis(created)
		if d.State == StatePending {
			d.NextAttemptAt = meta.FromMillis(next)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Attempts, err = s.attempts(ctx, tx, tenant, out[i].MessageID, out[i].SubscriptionID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) attempts(ctx context.Context, q queryer, tenant, msg, sub string) ([]Attempt, error) {
	rows, err := q.QueryContext(ctx, `SELECT attempt, at, status_code, latency_us, error FROM delivery_attempts
		WHERE tenant_id = $1 AND message_id = $2 AND subscription_id = $3 ORDER BY attempt`, tenant, msg, sub)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Attempt{}
	for rows.Next() {
		var a Attempt
		var at, us int64
		if err := rows.Scan(&a.Attempt, &at, &a.StatusCode, &us, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.LatencyMS = meta.FromMillis(at), float64(us)/1000
		out = append(out, a)
	}
	return out, rows.Err()
}
