package alarms

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/miradorhq/mirador/internal/meta"
)

// MuteWindow suppresses the actions of matching alarms from StartsAt to
// EndsAt; their state changes are still evaluated and kept in the
// history. An alarm matches when its name matches AlarmPattern (a glob:
// * ? [a-z]; empty matches every alarm) and it has every one of Labels.
// A state the actions missed is notified when the window ends.
type MuteWindow struct {
	ID           string            `json:"id"`
	AlarmPattern string            `json:"alarmPattern,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	Reason       string            `json:"reason"`
	CreatedAt    time.Time         `json:"createdAt"`
}

func (m *MuteWindow) matches(a *Alarm, now time.Time) bool {
	if now.Before(m.StartsAt) || !now.Before(m.EndsAt) {
		return false
	}
	if m.AlarmPattern != "" {
		if ok, _ := path.Match(m.AlarmPattern, a.Name); !ok {
			return false
		}
	}
	for k, v := range m.Labels {
		if a.Labels[k] != v {
			return false
		}
	}
	return true
}

// activeMute returns a mute window that mutes a now, or nil.
func (s *Service) activeMute(tenant string, a *Alarm, now time.Time) *MuteWindow {
	s.muteMu.Lock()
	defer s.muteMu.Unlock()
	for i := range s.mutes[tenant] {
		if m := &s.mutes[tenant][i]; m.matches(a, now) {
			c := *m
			return &c
		}
	}
	return nil
}

// PutMute creates a mute window (or replaces the one with its ID).
func (s *Service) PutMute(ctx context.Context, tenant string, m MuteWindow) (MuteWindow, error) {
	switch {
	case m.ID == "":
		m.ID = fmt.Sprintf("mute-%d", s.opts.Now().UnixNano())
	case len(m.ID) > 128:
		return MuteWindow{}, fmt.Errorf("%w: id: at most 128 characters", ErrInvalid)
	}
	if _, err := path.Match(m.AlarmPattern, ""); err != nil {
		return MuteWindow{}, fmt.Errorf("%w: alarmPattern %q: %v", ErrInvalid, m.AlarmPattern, err)
	}
	if m.StartsAt.IsZero() {
		m.StartsAt = s.opts.Now()
	}
	switch {
	case !m.EndsAt.After(m.StartsAt):
		return MuteWindow{}, fmt.Errorf("%w: endsAt must be after startsAt", ErrInvalid)
	case m.Reason == "" || utf8.RuneCountInString(m.Reason) > 1024:
		return MuteWindow{}, fmt.Errorf("%w: reason: required, at most 1024 characters", ErrInvalid)
	}
	m.StartsAt, m.EndsAt = m.StartsAt.UTC().Truncate(time.Millisecond), m.EndsAt.UTC().Truncate(time.Millisecond)
	m.CreatedAt = s.opts.Now().UTC().Truncate(time.Millisecond)
	labels, _ := json.Marshal(m.Labels)
	_, err := s.db.ExecContext(ctx, `INSERT INTO mute_windows (tenant_id, id, pattern, labels, starts_at, ends_at, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id, id) DO UPDATE SET pattern = $3, labels = $4, starts_at = $5, ends_at = $6, reason = $7`,
		tenant, m.ID, m.AlarmPattern, string(labels), meta.Millis(m.StartsAt), meta.Millis(m.EndsAt), m.Reason, meta.Millis(m.CreatedAt))
	if err != nil {
		return MuteWindow{}, err
	}
	return m, s.reloadMutes(ctx)
}

// Mutes lists a tenant's mute windows that have not ended.
func (s *Service) Mutes(tenant string) []MuteWindow {
	s.muteMu.Lock()
	defer s.muteMu.Unlock()
	now := s.opts.Now()
	out := []MuteWindow{}
	for _, m := range s.mutes[tenant] {
		if now.Before(m.EndsAt) {
			out = append(out, m)
		}
	}
	return out
}

// DeleteMute ends a mute window now.
func (s *Service) DeleteMute(ctx context.Context, tenant, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mute_windows WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: mute window %s", ErrNotFound, id)
	}
	s.kick()
	return s.reloadMutes(ctx)
}

func (s *Service) reloadMutes(ctx context.Context) error {
	m, err := loadMutes(ctx, s.db)
	if err != nil {
		return err
	}
	s.muteMu.Lock()
	s.mutes = m
	s.muteMu.Unlock()
	return nil
}

func loadMutes(ctx context.Context, db *sql.DB) (map[string][]MuteWindow, error) {
	rows, err := db.QueryContext(ctx, `SELECT tenant_id, id, pattern, labels, starts_at, ends_at, reason, created_at FROM mute_windows`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]MuteWindow{}
	for rows.Next() {
		var tenant, labels string
		var m MuteWindow
		var start, end, created int64
		if err := rows.Scan(&tenant, &m.ID, &m.AlarmPattern, &labels, &start, &end, &m.Reason, &created); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(labels), &m.Labels)
		m.StartsAt, m.EndsAt, m.CreatedAt = meta.FromMillis(start), meta.FromMillis(end), meta.FromMillis(created)
		out[tenant] = append(out[tenant], m)
	}
	for _, ms := range out {
		sort.Slice(ms, func(i, j int) bool { return ms[i].StartsAt.Before(ms[j].StartsAt) })
	}
	return out, rows.Err()
}
