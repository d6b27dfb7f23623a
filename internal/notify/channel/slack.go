package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Slack's limits on an incoming-webhook message.
const (
	slackMaxBlocks      = 50
	slackMaxSectionText = 3000
)

// Slack posts to a Slack incoming webhook (the subscription's endpoint):
// Block Kit sections with each alarm's name, state, reason, time and link,
// and a plain "text" that notifications and old clients show.
type Slack struct {
	Client *http.Client
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

// SlackPayload builds the incoming-webhook body for d.
func SlackPayload(d *Delivery) map[string]any {
	var blocks []slackBlock
	section := func(md string) {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(md, slackMaxSectionText)}})
	}
	text := slackEscape.Replace(subject(d))
	if len(d.Alarms) == 0 {
		body := slackEscape.Replace(d.Message)
		if d.Subject != "" {
			body = "*" + slackEscape.Replace(d.Subject) + "*\n" + body
		}
		section(body)
		return map[string]any{"text": truncate(text, slackMaxSectionText), "blocks": blocks}
	}
	if len(d.Alarms) > 1 {
		blocks = append(blocks, slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(subject(d), 150)}})
	}
	perAlarm := 2
	room := (slackMaxBlocks - len(blocks) - 1) / perAlarm // one block kept for "…and N more"
	for i, a := range d.Alarms {
		if i == room && len(d.Alarms) > room {
			blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: fmt.Sprintf("…and %d more", len(d.Alarms)-room)}}})
			break
		}
		md := fmt.Sprintf("%s *%s*", stateEmoji[a.NewState], slackEscape.Replace(title(a)))
		if n := note(a); n != "" {
			md += "\n_" + slackEscape.Replace(n) + "_"
		}
		md += "\n" + slackEscape.Replace(a.Reason)
		section(md)
		ctx := "Changed " + when(a.Time)
		if a.Link != "" {
			ctx += " · <" + a.Link + "|Open in Mirador>"
		}
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: ctx}}})
	}
	return map[string]any{"text": truncate(text, slackMaxSectionText), "blocks": blocks}
}

// Send posts d to the webhook URL. Slack answers 200 "ok"; 400
// (invalid_payload), 403 and 404 (no_service, channel gone) are permanent;
// 429 and 5xx are retried.
func (s Slack) Send(ctx context.Context, d *Delivery) Result {
	if d.Endpoint == "" {
		return Result{Err: ErrNoEndpoint, Permanent: true}
	}
	body, err := json.Marshal(SlackPayload(d))
	if err != nil {
		return Result{Err: fmt.Errorf("encode Slack payload: %w", err), Permanent: true}
	}
	return Post(ctx, s.Client, d.Endpoint, "application/json", nil, body)
}
