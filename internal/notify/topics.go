package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
)

// MaxGroupWindow bounds a topic's grouping window: grouping delays every
// notification of the topic by up to the window.
const MaxGroupWindow = time.Hour

// Topic is a named channel that messages are published to and
// subscriptions receive from.
type Topic struct {
	Name        string        `json:"name"`
	ARN         string        `json:"arn"`
	DisplayName string        `json:"displayName,omitempty"`
	GroupWindow time.Duration `json:"-"`
	// GroupWindowSeconds, when positive, holds notifications to the same
	// subscription for that long and delivers them as one message.
	GroupWindowSeconds int       `json:"groupWindowSeconds,omitempty"`
	Subscriptions      int       `json:"subscriptions"`
	CreatedAt          time.Time `json:"createdAt"`
}

// PutTopic creates the topic, or updates its display name and grouping
// window. Like SNS's CreateTopic it is idempotent.
func (s *Service) PutTopic(ctx context.Context, tenant string, t Topic) (Topic, error) {
	name, err := ParseTopic(t.Name)
	if err != nil {
		return Topic{}, err
	}
	if t.GroupWindow == 0 && t.GroupWindowSeconds > 0 {
		t.GroupWindow = time.Duration(t.GroupWindowSeconds) * time.Second
	}
	if t.GroupWindow < 0 || t.GroupWindow > MaxGroupWindow {
		return Topic{}, fmt.Errorf("%w: groupWindowSeconds %d: must be from 0 to %d", ErrInvalid, int(t.GroupWindow/time.Second), int(MaxGroupWindow/time.Second))
	}
	if len(t.DisplayName) > 100 {
		return Topic{}, fmt.Errorf("%w: displayName: at most 100 characters", ErrInvalid)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO topics (tenant_id, name, display_name, group_window_ms, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, name) DO UPDATE SET display_name = $3, group_window_ms = $4`,
		tenant, name, t.DisplayName, t.GroupWindow.Milliseconds(), meta.Millis(s.opts.Now()))
	if err != nil {
		return Topic{}, fmt.Errorf("put topic %s: %w", name, err)
	}
	return s.Topic(ctx, tenant, name)
}

const topicColumns = `t.name, t.display_name, t.group_window_ms, t.created_at,
	(SELECT COUNT(*) FROM subscriptions s WHERE s.tenant_id = t.tenant_id AND s.topic = t.name)`

func (s *Service) scanTopic(row interface{ Scan(...any) error }) (Topic, error) {
	var t Topic
	var window, created int64
	if err := row.Scan(&t.Name, &t.DisplayName, &window, &created, &t.Subscriptions); err != nil {
		return Topic{}, err
	}
	t.ARN = s.TopicARN(t.Name)
	t.GroupWindow = time.Duration(window) * time.Millisecond
	t.GroupWindowSeconds = int(t.GroupWindow / time.Second)
	t.CreatedAt = meta.FromMillis(created)
	return t, nil
}

// Topic returns one topic by name or ARN.
func (s *Service) Topic(ctx context.Context, tenant, ref string) (Topic, error) {
	name, err := ParseTopic(ref)
	if err != nil {
		return Topic{}, err
	}
	t, err := s.scanTopic(s.db.QueryRowContext(ctx, `SELECT `+topicColumns+` FROM topics t WHERE t.tenant_id = $1 AND t.name = $2`, tenant, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Topic{}, fmt.Errorf("%w: %s", ErrTopicNotFound, name)
	}
	return t, err
}

// Topics lists a tenant's topics by name.
func (s *Service) Topics(ctx context.Context, tenant string) ([]Topic, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+topicColumns+` FROM topics t WHERE t.tenant_id = $1 ORDER BY t.name`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Topic{}
	for rows.Next() {
		t, err := s.scanTopic(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTopic deletes a topic and its subscriptions. Messages waiting in
// the outbox for those subscriptions are dead-lettered when they come due.
func (s *Service) DeleteTopic(ctx context.Context, tenant, ref string) error {
	name, err := ParseTopic(ref)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM topics WHERE tenant_id = $1 AND name = $2`, tenant, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrTopicNotFound, name)
	}
	return nil
}
