package alarms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/alarms/eval"
	"github.com/miradorhq/mirador/internal/notify"
)

// transition applies an evaluation's outcome to an alarm (e.mu held): it
// moves the state, decides with the fatigue controls what to notify, and
// commits the state with the notifications' outbox rows in one
// transaction. Nothing is written when nothing changed.
func (s *Service) transition(ctx context.Context, e *entry, value eval.State, reason string, reasonData json.RawMessage, now time.Time) error {
	a := &e.rec.cfg
	st := e.rec.st // a copy: e.rec.st changes only once committed
	st.Fatigue.Transitions = append([]int64(nil), st.Fatigue.Transitions...)
	old := st.Value
	changed := value != old
	st.EvaluatedAt = now
	if changed {
		st.Value, st.Reason, st.ReasonData = value, reason, reasonData
		st.UpdatedAt, st.TransitionedAt = now, now
		st.Fatigue.Transitions = append(st.Fatigue.Transitions, ms(now))
	}
	flap := a.flapping()
	f := &st.Fatigue
	cut := ms(now.Add(-time.Duration(flap.WindowSeconds) * time.Second))
	for len(f.Transitions) > 0 && (f.Transitions[0] < cut || flap.MaxTransitions == 0) {
		f.Transitions = f.Transitions[1:]
	}
	before := e.rec.st.Fatigue

	var n *notification
	var history []HistoryItem
	held := func(why string) {
		if changed {
			history = append(history, HistoryItem{HistoryItemType: HistoryAction, HistorySummary: "Actions held: " + why})
		}
	}
	flapping := flap.MaxTransitions > 0 && len(f.Transitions) > flap.MaxTransitions
	mute := s.activeMute(e.tenant, a, now)
	switch {
	case !a.actionsEnabled():
		f.NotifiedState, f.Flapping = st.Value, flapping
	case mute != nil:
		held(fmt.Sprintf("muted by mute window %s (%s)", mute.ID, mute.Reason))
	case flapping && !f.Flapping:
		f.Flapping, f.NotifiedState = true, st.Value
		topics := a.AlarmActions
		if len(topics) == 0 {
			topics = a.actions(st.Value)
		}
		n = &notification{old: old, new: st.Value, at: now, flapping: true, topics: topics,
			reason: fmt.Sprintf("The alarm is flapping: %d state changes in the last %s. Notifications are held until it settles. Latest: %s", len(f.Transitions), time.Duration(flap.WindowSeconds)*time.Second, st.Reason)}
	case flapping:
		held("the alarm is flapping")
	default:
		f.Flapping = false
		switch {
		case st.Value != f.NotifiedState:
			n = &notification{old: f.NotifiedState, new: st.Value, reason: st.Reason, at: now, topics: a.actions(st.Value)}
			if !changed { // a mute window ended or flapping settled
				n.old = old
			}
			f.NotifiedState = st.Value
		case st.Value == eval.Alarm && a.RepeatIntervalSeconds > 0 && now.Sub(st.NotifiedAt) >= time.Duration(a.RepeatIntervalSeconds)*time.Second:
			n = &notification{old: st.Value, new: st.Value, reason: st.Reason, at: now, repeat: true, topics: a.AlarmActions}
		}
	}
	if n != nil {
		st.NotifiedAt = now
	}
	if !changed && n == nil && f.Flapping == before.Flapping && f.NotifiedState == before.NotifiedState && len(f.Transitions) == len(before.Transitions) {
		e.rec.st.EvaluatedAt = now
		return nil
	}

	var actions []HistoryItem
	err := s.tx(ctx, func(tx *sql.Tx) error {
		actions = actions[:0]
		if err := saveState(ctx, tx, e.tenant, a.Name, &st); err != nil {
			return err
		}
		if n == nil {
			return nil
		}
		msg := s.message(e.tenant, e.rec, *n)
		for _, topic := range n.topics {
			id, queued, err := s.opts.Notify.Enqueue(ctx, tx, e.tenant, topic, msg)
			switch {
			case errors.Is(err, notify.ErrTopicNotFound):
				actions = append(actions, HistoryItem{HistoryItemType: HistoryAction, HistorySummary: fmt.Sprintf("Failed to execute action %s: the topic does not exist", s.opts.Notify.TopicARN(topic))})
			case err != nil:
				return err
			default:
				data, _ := json.Marshal(map[string]any{"topicArn": s.opts.Notify.TopicARN(topic), "messageId": id, "deliveries": queued, "repeat": n.repeat, "flapping": n.flapping})
				actions = append(actions, HistoryItem{HistoryItemType: HistoryAction, HistorySummary: fmt.Sprintf("Successfully executed action %s", s.opts.Notify.TopicARN(topic)), HistoryData: data})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("alarm %s: save state: %w", a.Name, err)
	}
	if n != nil && len(n.topics) > 0 {
		s.opts.Notify.Wake()
	}
	e.rec.st = st
	if changed {
		s.transitions.WithLabelValues(string(value)).Inc()
		data, _ := json.Marshal(map[string]any{
			"version":  "1.0",
			"oldState": map[string]any{"stateValue": old},
			"newState": map[string]any{"stateValue": value, "stateReason": reason, "stateReasonData": reasonData},
		})
		history = append([]HistoryItem{{HistoryItemType: HistoryStateUpdate, HistorySummary: fmt.Sprintf("Alarm updated from %s to %s", old, value), HistoryData: data}}, history...)
	}
	history = append(history, actions...)
	for i := range history {
		history[i].AlarmName, history[i].AlarmType, history[i].Timestamp = a.Name, a.Kind, now
	}
	s.recordHistory(ctx, e.tenant, history)
	return nil
}
