package alarms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/alarms/eval"
	"github.com/miradorhq/mirador/internal/meta"
)

// fatigue is what the fatigue controls remember of an alarm.
type fatigue struct {
	Transitions []int64 `json:"transitions,omitempty"` // unix ms, within the flapping window
	Flapping    bool    `json:"flapping,omitempty"`
	// NotifiedState is the state the alarm's actions last heard of; a
	// state the actions have not heard of (because of a mute window or
	// flapping) is notified once they may hear again.
	NotifiedState eval.State `json:"notifiedState"`
}

// state is an alarm's state as stored.
type state struct {
	Value          eval.State
	Reason         string
	ReasonData     json.RawMessage
	UpdatedAt      time.Time
	TransitionedAt time.Time
	EvaluatedAt    time.Time
	NotifiedAt     time.Time
	Fatigue        fatigue
}

// record is an alarm as stored: configuration and state.
type record struct {
	cfg       Alarm
	st        state
	createdAt time.Time
	updatedAt time.Time
}

const alarmColumns = `name, config, state, reason, reason_data, state_updated_at, transitioned_at, evaluated_at, notified_at, recent, created_at, updated_at`

// scanRecord scans alarmColumns and then extra.
func scanRecord(row interface{ Scan(...any) error }, extra ...any) (*record, error) {
	var r record
	var name, cfg, reasonData, recent string
	var upd, trans, evald, notified, created, updated int64
	dst := append([]any{&name, &cfg, &r.st.Value, &r.st.Reason, &reasonData, &upd, &trans, &evald, &notified, &recent, &created, &updated}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cfg), &r.cfg); err != nil {
		return nil, fmt.Errorf("alarm %s: configuration: %w", name, err)
	}
	if err := json.Unmarshal([]byte(recent), &r.st.Fatigue); err != nil {
		return nil, fmt.Errorf("alarm %s: fatigue state: %w", name, err)
	}
	if reasonData != "" {
		r.st.ReasonData = json.RawMessage(reasonData)
	}
	r.st.UpdatedAt, r.st.TransitionedAt, r.st.EvaluatedAt, r.st.NotifiedAt = meta.FromMillis(upd), meta.FromMillis(trans), meta.FromMillis(evald), meta.FromMillis(notified)
	r.createdAt, r.updatedAt = meta.FromMillis(created), meta.FromMillis(updated)
	return &r, nil
}

// loadAll reads every alarm of every tenant.
func loadAll(ctx context.Context, db *sql.DB) (map[string][]*record, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+alarmColumns+`, tenant_id FROM alarms`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]*record{}
	for rows.Next() {
		var tenant string
		r, err := scanRecord(rows, &tenant)
		if err != nil {
			return nil, err
		}
		out[tenant] = append(out[tenant], r)
	}
	return out, rows.Err()
}

// insertOrUpdate writes an alarm's configuration: a new alarm starts in
// INSUFFICIENT_DATA; an existing one keeps its state.
func insertOrUpdate(ctx context.Context, tx *sql.Tx, tenant string, a *Alarm, now time.Time) (created bool, err error) {
	cfg, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	recent, _ := json.Marshal(fatigue{NotifiedState: eval.InsufficientData})
	res, err := tx.ExecContext(ctx, `INSERT INTO alarms (tenant_id, name, kind, config, state, reason, reason_data, state_updated_at, transitioned_at, evaluated_at, notified_at, recent, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, '', $7, $7, 0, 0, $8, $7, $7) ON CONFLICT (tenant_id, name) DO NOTHING`,
		tenant, a.Name, a.Kind, string(cfg), string(eval.InsufficientData), "Unchecked: Initial alarm creation", meta.Millis(now), string(recent))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE alarms SET kind = $3, config = $4, updated_at = $5 WHERE tenant_id = $1 AND name = $2`,
		tenant, a.Name, a.Kind, string(cfg), meta.Millis(now))
	return false, err
}

// saveState writes an alarm's state within tx.
func saveState(ctx context.Context, tx *sql.Tx, tenant, name string, st *state) error {
	recent, err := json.Marshal(st.Fatigue)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE alarms SET state = $3, reason = $4, reason_data = $5, state_updated_at = $6, transitioned_at = $7, evaluated_at = $8, notified_at = $9, recent = $10
		WHERE tenant_id = $1 AND name = $2`,
		tenant, name, string(st.Value), st.Reason, string(st.ReasonData), meta.Millis(st.UpdatedAt), meta.Millis(st.TransitionedAt), meta.Millis(st.EvaluatedAt), meta.Millis(st.NotifiedAt), string(recent))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s (deleted while it was evaluated)", ErrNotFound, name)
	}
	return nil
}

func deleteAlarm(ctx context.Context, db *sql.DB, tenant, name string) error {
	res, err := db.ExecContext(ctx, `DELETE FROM alarms WHERE tenant_id = $1 AND name = $2`, tenant, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return nil
}

func getRecord(ctx context.Context, db *sql.DB, tenant, name string) (*record, error) {
	r, err := scanRecord(db.QueryRowContext(ctx, `SELECT `+alarmColumns+` FROM alarms WHERE tenant_id = $1 AND name = $2`, tenant, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return r, err
}
