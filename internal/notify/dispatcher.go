package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/notify/channel"
)

// pollBatch bounds how many due rows one look at the outbox picks up.
const pollBatch = 512

// job is one delivery to make: a message to a subscription, or a group of
// messages the topic's window gathered for it.
type job struct {
	tenant, sub, message, group string
}

// key identifies the job's subscription: a subscription gets one delivery
// at a time, so its messages arrive in the order they were published.
func (j job) key() string { return j.tenant + "\x00" + j.sub }

// Run delivers the outbox until ctx ends: it looks for due rows whenever
// Wake is called and every PollInterval, and delivers them on Workers
// goroutines. Rows left pending by a crash are picked up at once.
func (s *Service) Run(ctx context.Context) {
	jobs := make(chan job)
	s.records = make(chan *attemptRecord)
	recorded := make(chan struct{})
	go func() { s.recordAttempts(s.records); close(recorded) }()
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				// Go on with the subscription's next message while it is
				// due: the cheap way through a backlog.
				for ok := true; ok && ctx.Err() == nil; {
					s.deliver(ctx, j)
					j, ok = s.nextOf(ctx, j)
				}
				s.mu.Lock()
				delete(s.inflight, j.key())
				s.mu.Unlock()
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
		close(s.records)
		<-recorded
	}()
	tick := time.NewTicker(s.opts.PollInterval)
	defer tick.Stop()
	lastCleanup := time.Time{}
	for {
		if time.Since(lastCleanup) > time.Hour {
			s.cleanup(ctx)
			lastCleanup = time.Now()
		}
		due, err := s.due(ctx)
		if err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("read the notification outbox", "err", err)
		}
		for _, j := range due {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
		if len(due) == pollBatch {
			continue // more are due
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// nextOf returns the job of j's subscription's oldest pending message if
// it is due now.
func (s *Service) nextOf(ctx context.Context, j job) (job, bool) {
	next := job{tenant: j.tenant, sub: j.sub}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT message_id, group_key, next_attempt_at FROM outbox
		WHERE state = $1 AND tenant_id = $2 AND subscription_id = $3 ORDER BY seq LIMIT 1`,
		StatePending, j.tenant, j.sub).Scan(&next.message, &next.group, &at)
	if err != nil || at > meta.Millis(s.opts.Now()) {
		return j, false
	}
	return next, true
}

// Retention of finished deliveries and their attempts.
const deliveryRetention = 7 * 24 * time.Hour

// cleanup deletes deliveries finished (delivered or dead) longer ago than
// deliveryRetention, with their attempts.
func (s *Service) cleanup(ctx context.Context) {
	cut := meta.Millis(s.opts.Now().Add(-deliveryRetention))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE EXISTS (SELECT 1 FROM outbox o
			WHERE o.tenant_id = delivery_attempts.tenant_id AND o.message_id = delivery_attempts.message_id AND o.subscription_id = delivery_attempts.subscription_id
			AND o.state <> $1 AND o.updated_at < $2)`, StatePending, cut); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE state <> $1 AND updated_at < $2`, StatePending, cut)
		return err
	})
	if err != nil && ctx.Err() == nil {
		s.opts.Logger.Warn("delete old deliveries", "err", err)
	}
}

// due returns the due jobs of subscriptions with no delivery under way,
// marking them in flight. Only a subscription's oldest pending message is
// ever due: one waiting for a retry holds back those after it, so they
// are never delivered out of order.
func (s *Service) due(ctx context.Context) ([]job, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.tenant_id, o.message_id, o.subscription_id, o.group_key FROM outbox o
		JOIN (SELECT tenant_id, subscription_id, MIN(seq) AS seq FROM outbox WHERE state = $1 GROUP BY tenant_id, subscription_id) head
		ON o.tenant_id = head.tenant_id AND o.subscription_id = head.subscription_id AND o.seq = head.seq
		WHERE o.next_attempt_at <= $2 ORDER BY o.next_attempt_at LIMIT `+fmt.Sprint(pollBatch),
		StatePending, meta.Millis(s.opts.Now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []job
	s.mu.Lock()
	defer s.mu.Unlock()
	for rows.Next() && len(s.inflight) < s.opts.Workers {
		var j job
		if err := rows.Scan(&j.tenant, &j.message, &j.sub, &j.group); err != nil {
			return out, err
		}
		if k := j.key(); !s.inflight[k] {
			s.inflight[k] = true
			out = append(out, j)
		}
	}
	return out, rows.Err()
}

type outboxRow struct {
	message, kind string
	attempts      int
	p             payload
}

// deliver makes one attempt at a job and records it.
func (s *Service) deliver(ctx context.Context, j job) {
	rows, err := s.jobRows(ctx, j)
	if err != nil || len(rows) == 0 {
		if err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("read outbox rows", "tenant", j.tenant, "message", j.message, "err", err)
		}
		return
	}
	sub, _, err := s.subscription(ctx, s.db, j.tenant, j.sub)
	if err != nil {
		s.record(ctx, j, rows, sub, channel.Result{Err: fmt.Errorf("not delivered: %w", err), Permanent: true}, time.Now(), 0)
		return
	}
	d := s.delivery(j, sub, rows)
	sender := s.opts.Senders[sub.Protocol]
	if sender == nil {
		s.record(ctx, j, rows, sub, channel.Result{Err: fmt.Errorf("protocol %s is not configured on this server", sub.Protocol)}, time.Now(), 0)
		return
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.opts.SendTimeout)
	start := time.Now()
	res := sender.Send(sendCtx, d)
	took := time.Since(start)
	cancel()
	if res.Err != nil && ctx.Err() != nil {
		return // shutting down: the attempt did not really happen; the row stays due
	}
	s.latency.WithLabelValues(sub.Protocol).Observe(took.Seconds())
	s.record(ctx, j, rows, sub, res, start, took)
}

// jobRows reads the pending rows of a job, oldest first.
func (s *Service) jobRows(ctx context.Context, j job) ([]outboxRow, error) {
	q, args := `SELECT message_id, kind, attempts, payload FROM outbox WHERE tenant_id = $1 AND subscription_id = $2 AND state = $3 AND group_key = $4 ORDER BY seq`, []any{j.tenant, j.sub, StatePending, j.group}
	if j.group == "" {
		q, args = `SELECT message_id, kind, attempts, payload FROM outbox WHERE tenant_id = $1 AND message_id = $2 AND subscription_id = $3 AND state = $4`, []any{j.tenant, j.message, j.sub, StatePending}
	}
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []outboxRow
	for rs.Next() {
		var r outboxRow
		var body string
		if err := rs.Scan(&r.message, &r.kind, &r.attempts, &body); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &r.p); err != nil {
			return nil, fmt.Errorf("outbox row %s: %w", r.message, err)
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// delivery builds what the sender gets. A group becomes one message: its
// id is the group's (the first message's), its body a JSON array of the
// messages, its alarm changes all of theirs.
func (s *Service) delivery(j job, sub Subscription, rows []outboxRow) *channel.Delivery {
	first := rows[0]
	d := &channel.Delivery{
		MessageID: first.message, Type: first.kind, Tenant: j.tenant,
		TopicARN: s.TopicARN(sub.Topic), SubscriptionARN: sub.ARN,
		Protocol: sub.Protocol, Endpoint: sub.Endpoint, Secret: sub.Secret, Raw: sub.RawMessageDelivery,
		Subject: first.p.Subject, Message: first.p.Message, Alarms: first.p.Alarms,
		Timestamp: meta.FromMillis(first.p.Published), Attempt: first.attempts + 1,
		Token: first.p.Token, SubscribeURL: first.p.SubscribeURL,
	}
	if len(first.p.Attributes) > 0 {
		d.Attributes = make(map[string]string, len(first.p.Attributes))
		for k, a := range first.p.Attributes {
			d.Attributes[k] = a.Value
		}
	}
	if len(rows) == 1 {
		return d
	}
	d.MessageID = j.group
	msgs := make([]json.RawMessage, len(rows))
	d.Alarms = nil
	for i, r := range rows {
		if json.Valid([]byte(r.p.Message)) {
			msgs[i] = json.RawMessage(r.p.Message)
		} else {
			msgs[i], _ = json.Marshal(r.p.Message)
		}
		d.Alarms = append(d.Alarms, r.p.Alarms...)
	}
	body, _ := json.Marshal(msgs)
	d.Message = string(body)
	d.Subject = fmt.Sprintf("%d notifications from %s", len(rows), sub.Topic)
	if len(d.Alarms) == len(rows) {
		d.Subject = fmt.Sprintf("%d alarms changed state", len(rows))
	}
	return d
}

// record writes the attempt and moves the rows on: delivered, due again
// after the retry policy's delay, or dead.
func (s *Service) record(ctx context.Context, j job, rows []outboxRow, sub Subscription, res channel.Result, at time.Time, took time.Duration) {
	attempt := rows[0].attempts + 1
	state, next, lastErr, outcome := StateDelivered, int64(0), "", "delivered"
	if res.Err != nil {
		lastErr = res.Err.Error()
		policy := s.opts.DefaultRetry(sub.Protocol)
		if sub.RetryPolicy != nil {
			policy = *sub.RetryPolicy
		}
		delay, ok := policy.Delay(attempt, !s.opts.jitterDisable)
		switch {
		case res.Permanent || !ok:
			state, outcome = StateDead, "dead"
			s.opts.Logger.Warn("notification dead-lettered", "tenant", j.tenant, "message", rows[0].message, "subscription", sub.ARN, "attempts", attempt, "err", res.Err)
		default:
			state, next, outcome = StatePending, meta.Millis(s.opts.Now().Add(delay)), "retry"
		}
	} else if res.Note != "" {
		lastErr = res.Note
	}
	s.deliveries.WithLabelValues(sub.Protocol, outcome).Inc()
	rec := &attemptRecord{j: j, rows: rows, attempt: attempt, state: state, next: next, lastErr: lastErr,
		status: res.Status, at: at, took: took, done: make(chan struct{})}
	s.records <- rec
	<-rec.done
}

// attemptRecord is one attempt waiting to be written.
type attemptRecord struct {
	j       job
	rows    []outboxRow
	attempt int
	state   string
	next    int64
	lastErr string
	status  int
	at      time.Time
	took    time.Duration
	done    chan struct{}
}

// maxRecordBatch bounds how many attempts one transaction records.
const maxRecordBatch = 256

// recordAttempts writes attempts as they come, many per transaction (one
// fsync for all the workers that finished meanwhile), until records is
// closed.
func (s *Service) recordAttempts(records <-chan *attemptRecord) {
	for first := range records {
		batch := []*attemptRecord{first}
	drain:
		for len(batch) < maxRecordBatch {
			select {
			case r, ok := <-records:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if err := s.writeAttempts(batch); err != nil {
			// The messages will be sent again with the same ids; receivers
			// drop the duplicates.
			s.opts.Logger.Error("record delivery attempts", "attempts", len(batch), "err", err)
		}
		for _, r := range batch {
			close(r.done)
		}
	}
}

func (s *Service) writeAttempts(batch []*attemptRecord) error {
	ctx := context.Background() // an attempt made is recorded, even during shutdown
	now := meta.Millis(s.opts.Now())
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, a := range batch {
			for _, r := range a.rows {
				if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (tenant_id, message_id, subscription_id, attempt, at, status_code, latency_us, error)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, message_id, subscription_id, attempt) DO NOTHING`,
					a.j.tenant, r.message, a.j.sub, a.attempt, meta.Millis(a.at), a.status, a.took.Microseconds(), a.lastErr); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = $4, attempts = $5, next_attempt_at = $6, last_error = $7, updated_at = $8
					WHERE tenant_id = $1 AND message_id = $2 AND subscription_id = $3`,
					a.j.tenant, r.message, a.j.sub, a.state, a.attempt, a.next, a.lastErr, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Redrive puts a dead-lettered delivery back in the outbox, due at once,
// for one more attempt: its retries are spent, so if that attempt fails it
// is dead again.
func (s *Service) Redrive(ctx context.Context, tenant, messageID, subscriptionID string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET state = $4, next_attempt_at = $5, updated_at = $5
		WHERE tenant_id = $1 AND message_id = $2 AND subscription_id = $3 AND state = $6`,
		tenant, messageID, subscriptionID, StatePending, meta.Millis(s.opts.Now()), StateDead)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no dead-lettered delivery of message %s to subscription %s", ErrInvalid, messageID, subscriptionID)
	}
	s.Wake()
	return nil
}
