package channel

import (
	"fmt"
	"strings"
	"time"
)

// Text for people, shared by the Slack, e-mail and PagerDuty senders.

// stateEmoji marks a state in Slack text.
var stateEmoji = map[string]string{
	StateAlarm:            ":red_circle:",
	StateOK:               ":large_green_circle:",
	StateInsufficientData: ":grey_question:",
}

// title is one line naming what happened to an alarm.
func title(a AlarmChange) string {
	switch {
	case a.Flapping:
		return fmt.Sprintf("%s is flapping (now %s)", a.AlarmName, a.NewState)
	case a.Repeat:
		return fmt.Sprintf("%s is still in %s", a.AlarmName, a.NewState)
	case a.OldState != "" && a.OldState != a.NewState:
		return fmt.Sprintf("%s: %s → %s", a.AlarmName, a.OldState, a.NewState)
	}
	return fmt.Sprintf("%s is %s", a.AlarmName, a.NewState)
}

// note explains a reminder or flapping in a sentence; empty otherwise.
func note(a AlarmChange) string {
	switch {
	case a.Flapping:
		return "The alarm is flapping: it changes state too often. Further notifications are held until it settles."
	case a.Repeat:
		return "Reminder: the alarm is still in " + a.NewState + "."
	}
	return ""
}

// subject is the one-line summary of a delivery.
func subject(d *Delivery) string {
	switch {
	case len(d.Alarms) > 1:
		return fmt.Sprintf("%d alarms changed state", len(d.Alarms))
	case len(d.Alarms) == 1:
		a := d.Alarms[0]
		switch {
		case a.Flapping:
			return fmt.Sprintf("FLAPPING: %q", a.AlarmName)
		case a.Repeat:
			return fmt.Sprintf("STILL %s: %q", a.NewState, a.AlarmName)
		}
		return fmt.Sprintf("%s: %q", a.NewState, a.AlarmName)
	case d.Subject != "":
		return d.Subject
	}
	return "Notification from Mirador"
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// plainText is the text/plain rendering of a delivery.
func plainText(d *Delivery) string {
	if len(d.Alarms) == 0 {
		return d.Message
	}
	var b strings.Builder
	for i, a := range d.Alarms {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(title(a) + "\n")
		if n := note(a); n != "" {
			b.WriteString(n + "\n")
		}
		if a.AlarmDescription != "" {
			b.WriteString(a.AlarmDescription + "\n")
		}
		fmt.Fprintf(&b, "Reason: %s\nTime: %s\n", a.Reason, when(a.Time))
		if a.Link != "" {
			b.WriteString("Link: " + a.Link + "\n")
		}
	}
	return b.String()
}
