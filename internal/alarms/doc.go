// Package alarms owns metric and composite alarms: their configuration and
// state in the meta store, the evaluator that runs them on a schedule with
// CloudWatch's semantics (package eval), anomaly bands (package anomaly),
// composite rules (package composite), the fatigue controls (repeat
// interval, mute windows, flapping) and the alarm history in the event
// store's alarm_history dataset.
//
// A state change and the notifications it causes are committed in one
// meta-store transaction through notify.Service.Enqueue, so a crash loses
// neither and repeats neither. It must not import API packages.
package alarms
