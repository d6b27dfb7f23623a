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
	"github.com/miradorhq/mirador/internal/notify"
)

// change is what an evaluation's outcome does to one alarm: its new state
// and the notification the fatigue controls let through. It is written by
// commit and then applied to the entry, whose mu is held throughout.
type change struct {
	e       *entry
	st      state         // the state to store
	old     eval.State    // the state before
	changed bool          // the state value changed
	n       *notification // nil: nothing to notify
	history []HistoryItem // besides the state update and the actions
	actions []HistoryItem // filled by commit
}

// decide works out what an outcome does to an alarm (e.mu held). It
// returns nil when nothing needs writing.
func (s *Service) decide(e *entry, value eval.State, reason string, reasonData json.RawMessage, now time.Time) *change {
	a := &e.rec.cfg
	st := e.rec.st // a copy: e.rec.st changes only once committed
	st.Fatigue.Transitions = append([]int64(nil), st.Fatigue.Transitions...)
	c := &change{e: e, old: st.Value, changed: value != st.Value}
	st.EvaluatedAt = now
	if c.changed {
		st.Value, st.Reason, st.ReasonData = value, reason, reasonData
		st.UpdatedAt, st.TransitionedAt = now, now
		st.Fatigue.Transitions = append(st.Fatigue.Transitions, meta.Millis(now))
	}
	flap := a.flapping()
	f := &st.Fatigue
	cut := meta.Millis(now.Add(-time.Duration(flap.WindowSeconds) * time.Second))
	for len(f.Transitions) > 0 && (f.Transitions[0] < cut || flap.MaxTransitions == 0) {
		f.Transitions = f.Transitions[1:]
	}
	before := e.rec.st.Fatigue

	held := func(why string) {
		if c.changed {
			c.history = append(c.history, HistoryItem{HistoryItemType: HistoryAction, HistorySummary: "Actions held: " + why})
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
		c.n = &notification{old: c.old, new: st.Value, at: now, flapping: true, topics: topics,
			reason: fmt.Sprintf("The alarm is flapping: %d state changes in the last %s. Notifications are held until it settles. Latest: %s", len(f.Transitions), time.Duration(flap.WindowSeconds)*time.Second, st.Reason)}
	case flapping:
		held("the alarm is flapping")
	default:
		f.Flapping = false
		switch {
		case st.Value != f.NotifiedState:
			// A plain transition; or, unchanged, a mute window ended or
			// flapping settled and the actions catch up.
			c.n = &notification{old: c.old, new: st.Value, reason: st.Reason, at: now, topics: a.actions(st.Value)}
			if c.changed {
				c.n.old = f.NotifiedState
			}
			f.NotifiedState = st.Value
		case st.Value == eval.Alarm && a.RepeatIntervalSeconds > 0 && now.Sub(st.NotifiedAt) >= time.Duration(a.RepeatIntervalSeconds)*time.Second:
			c.n = &notification{old: st.Value, new: st.Value, reason: st.Reason, at: now, repeat: true, topics: a.AlarmActions}
		}
	}
	if c.n != nil {
		st.NotifiedAt = now
	}
	c.st = st
	if !c.changed && c.n == nil && f.Flapping == before.Flapping && f.NotifiedState == before.NotifiedState && len(f.Transitions) == len(before.Transitions) {
		e.rec.st.EvaluatedAt = now
		return nil
	}
	return c
}

// commit writes changes in one transaction: each alarm's state and its
// notifications' outbox rows. If the batch fails, each change is tried
// on its own, so one bad change cannot hold back the others; errs holds
// each change's outcome.
func (s *Service) commit(ctx context.Context, cs []*change) (errs []error) {
	errs = make([]error, len(cs))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, c := range cs {
			if err := s.write(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(cs) > 1 {
		for i, c := range cs {
			errs[i] = s.tx(ctx, func(tx *sql.Tx) error { return s.write(ctx, tx, c) })
		}
	} else {
		for i := range errs {
			errs[i] = err
		}
	}
	notified := false
	history := map[string][]HistoryItem{} // by tenant
	for i, c := range cs {
		if errs[i] == nil {
			notified = notified || (c.n != nil && len(c.n.topics) > 0)
			history[c.e.tenant] = append(history[c.e.tenant], s.apply(c)...)
		}
	}
	if notified {
		s.opts.Notify.Wake()
	}
	for tenant, items := range history {
		s.recordHistory(ctx, tenant, items)
	}
	return errs
}

// write stores one change within tx.
func (s *Service) write(ctx context.Context, tx *sql.Tx, c *change) error {
	e, a := c.e, &c.e.rec.cfg
	c.actions = c.actions[:0]
	if err := saveState(ctx, tx, e.tenant, a.Name, &c.st); err != nil {
		return err
	}
	if c.n == nil {
		return nil
	}
	msg := s.message(e.tenant, e.rec, *c.n)
	for _, topic := range c.n.topics {
		id, queued, err := s.opts.Notify.Enqueue(ctx, tx, e.tenant, topic, msg)
		switch {
		case errors.Is(err, notify.ErrTopicNotFound):
			c.actions = append(c.actions, HistoryItem{HistoryItemType: HistoryAction, HistorySummary: fmt.Sprintf("Failed to execute action %s: the topic does not exist", s.opts.Notify.TopicARN(topic))})
		case err != nil:
			return err
		default:
			data, _ := json.Marshal(map[string]any{"topicArn": s.opts.Notify.TopicARN(topic), "messageId": id, "deliveries": queued, "repeat": c.n.repeat, "flapping": c.n.flapping})
			c.actions = append(c.actions, HistoryItem{HistoryItemType: HistoryAction, HistorySummary: fmt.Sprintf("Successfully executed action %s", s.opts.Notify.TopicARN(topic)), HistoryData: data})
		}
	}
	return nil
}

// apply makes a committed change the entry's state and returns its
// history items.
func (s *Service) apply(c *change) []HistoryItem {
	e, a := c.e, &c.e.rec.cfg
	e.rec.st = c.st
	items := c.history
	if c.changed {
		s.transitions.WithLabelValues(string(c.st.Value)).Inc()
		data, _ := json.Marshal(map[string]any{
			"version":  "1.0",
			"oldState": map[string]any{"stateValue": c.old},
			"newState": map[string]any{"stateValue": c.st.Value, "stateReason": c.st.Reason, "stateReasonData": c.st.ReasonData},
		})
		items = append([]HistoryItem{{HistoryItemType: HistoryStateUpdate, HistorySummary: fmt.Sprintf("Alarm updated from %s to %s", c.old, c.st.Value), HistoryData: data}}, items...)
	}
	items = append(items, c.actions...)
	for i := range items {
		items[i].AlarmName, items[i].AlarmType, items[i].Timestamp = a.Name, a.Kind, c.st.EvaluatedAt
	}
	return items
}

// transition applies one outcome to an alarm now (e.mu held): decide,
// then commit on its own.
func (s *Service) transition(ctx context.Context, e *entry, value eval.State, reason string, reasonData json.RawMessage, now time.Time) error {
	c := s.decide(e, value, reason, reasonData, now)
	if c == nil {
		return nil
	}
	if err := s.commit(ctx, []*change{c})[0]; err != nil {
		return fmt.Errorf("alarm %s: save state: %w", e.rec.cfg.Name, err)
	}
	return nil
}
