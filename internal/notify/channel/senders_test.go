package channel

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// endpoint records JSON bodies and answers with a queued status (200 by
// default) and body.
type endpoint struct {
	mu     sync.Mutex
	bodies []map[string]any
	status int
	answer string
	srv    *httptest.Server
}

func newEndpoint(t *testing.T, status int, answer string) *endpoint {
	e := &endpoint{status: status, answer: answer}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("body %q (%v), content type %q", b, err, r.Header.Get("Content-Type"))
		}
		e.mu.Lock()
		e.bodies = append(e.bodies, m)
		e.mu.Unlock()
		w.WriteHeader(e.status)
		io.WriteString(w, e.answer)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

var changed = time.Date(2026, 11, 22, 10, 41, 0, 0, time.UTC)

func alarmDelivery(endpoint string, changes ...AlarmChange) *Delivery {
	return &Delivery{MessageID: "m-1", Type: TypeNotification, Tenant: "acme", TopicARN: "arn:aws:sns:us-east-1:0:oncall",
		Endpoint: endpoint, Message: `{"AlarmName":"x"}`, Timestamp: changed, Alarms: changes}
}

var cpuHigh = AlarmChange{AlarmName: "cpu <high> & hot", AlarmARN: "arn:aws:cloudwatch:us-east-1:0:alarm:cpu", OldState: StateOK, NewState: StateAlarm,
	Reason: "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (90.0)", Time: changed, Link: "http://mirador.test/api/v1/alarms/cpu"}

func TestSlackPayloadShape(t *testing.T) {
	ep := newEndpoint(t, 200, "ok")
	s := Slack{Client: http.DefaultClient}
	if res := s.Send(context.Background(), alarmDelivery(ep.srv.URL, cpuHigh)); res.Err != nil || res.Status != 200 {
		t.Fatalf("send: %+v", res)
	}
	body := ep.bodies[0]
	if body["text"] != `ALARM: "cpu &lt;high&gt; &amp; hot"` {
		t.Errorf("text %q", body["text"])
	}
	blocks := body["blocks"].([]any)
	section := blocks[0].(map[string]any)
	md := section["text"].(map[string]any)["text"].(string)
	if section["type"] != "section" || !strings.Contains(md, ":red_circle: *cpu &lt;high&gt; &amp; hot: OK → ALARM*") || !strings.Contains(md, "Threshold Crossed") {
		t.Errorf("section %v", section)
	}
	ctx := blocks[1].(map[string]any)["elements"].([]any)[0].(map[string]any)["text"].(string)
	if !strings.Contains(ctx, "<http://mirador.test/api/v1/alarms/cpu|Open in Mirador>") || !strings.Contains(ctx, "2026-11-22 10:41:00 UTC") {
		t.Errorf("context %q", ctx)
	}

	// Flapping says so; many alarms are grouped under a header and cut
	// to Slack's 50 blocks.
	flap := cpuHigh
	flap.Flapping = true
	if md := SlackPayload(alarmDelivery("", flap))["blocks"].([]slackBlock)[0].Text.Text; !strings.Contains(md, "flapping") || !strings.Contains(md, "held until it settles") {
		t.Errorf("flapping section %q", md)
	}
	many := make([]AlarmChange, 40)
	for i := range many {
		many[i] = cpuHigh
	}
	p := SlackPayload(alarmDelivery("", many...))
	bs := p["blocks"].([]slackBlock)
	if p["text"] != "40 alarms changed state" || len(bs) > slackMaxBlocks || bs[0].Type != "header" || !strings.Contains(bs[len(bs)-1].Elements[0].Text, "more") {
		t.Errorf("grouped: text %q, %d blocks, last %+v", p["text"], len(bs), bs[len(bs)-1])
	}
	long := &Delivery{Subject: "deploy", Message: strings.Repeat("x", 5000)}
	if txt := SlackPayload(long)["blocks"].([]slackBlock)[0].Text.Text; len([]rune(txt)) > slackMaxSectionText || !strings.HasPrefix(txt, "*deploy*\n") {
		t.Errorf("published message section: %d runes, %q…", len([]rune(txt)), txt[:20])
	}
}

func TestSlackErrorsMapToRetryOrNot(t *testing.T) {
	for _, c := range []struct {
		status   int
		answer   string
		ok, perm bool
	}{
		{200, "ok", true, false},
		{400, "invalid_payload", false, true},
		{404, "no_service", false, true},
		{403, "action_prohibited", false, true},
		{429, "rate_limited", false, false},
		{500, "rollup_error", false, false},
	} {
		ep := newEndpoint(t, c.status, c.answer)
		res := Slack{Client: http.DefaultClient}.Send(context.Background(), alarmDelivery(ep.srv.URL, cpuHigh))
		if (res.Err == nil) != c.ok || res.Permanent != c.perm || res.Status != c.status {
			t.Errorf("%d %s: %+v, want ok=%v permanent=%v", c.status, c.answer, res, c.ok, c.perm)
		}
		if !c.ok && !strings.Contains(res.Err.Error(), c.answer) {
			t.Errorf("%d: error %q does not carry Slack's answer", c.status, res.Err)
		}
	}
}

func TestPagerDutyTriggerResolveAndSkip(t *testing.T) {
	ep := newEndpoint(t, 202, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	pd := PagerDuty{Client: http.DefaultClient, URL: ep.srv.URL}
	ctx := context.Background()
	const key = "R0UT1NGKEY0123456789abcdef012345"

	a := cpuHigh
	a.Labels = map[string]string{"severity": "warning", "team": "web"}
	if res := pd.Send(ctx, alarmDelivery(key, a)); res.Err != nil || res.Status != 202 {
		t.Fatalf("trigger: %+v", res)
	}
	ok := cpuHigh
	ok.OldState, ok.NewState = StateAlarm, StateOK
	if res := pd.Send(ctx, alarmDelivery(key, ok)); res.Err != nil {
		t.Fatalf("resolve: %+v", res)
	}
	insufficient := cpuHigh
	insufficient.NewState = StateInsufficientData
	if res := pd.Send(ctx, alarmDelivery(key, insufficient)); res.Err != nil || !strings.Contains(res.Note, "INSUFFICIENT_DATA") {
		t.Errorf("insufficient data: %+v", res)
	}
	if len(ep.bodies) != 2 {
		t.Fatalf("%d events sent, want trigger and resolve only", len(ep.bodies))
	}
	trig, res := ep.bodies[0], ep.bodies[1]
	payload := trig["payload"].(map[string]any)
	if trig["routing_key"] != key || trig["event_action"] != "trigger" || trig["dedup_key"] != cpuHigh.AlarmARN ||
		payload["severity"] != "warning" || payload["source"] != "mirador/acme" || payload["timestamp"] != "2026-11-22T10:41:00.000Z" ||
		!strings.HasPrefix(payload["summary"].(string), `ALARM: "cpu <high> & hot" — Threshold Crossed`) ||
		payload["custom_details"].(map[string]any)["new_state"] != "ALARM" || trig["client_url"] != cpuHigh.Link {
		t.Errorf("trigger %v", trig)
	}
	if len(res) != 3 || res["event_action"] != "resolve" || res["dedup_key"] != cpuHigh.AlarmARN || res["routing_key"] != key {
		t.Errorf("resolve %v: want only routing_key, event_action and dedup_key", res)
	}

	// A published message triggers with its own dedup key and severity.
	ep.bodies = nil
	d := &Delivery{MessageID: "m-9", Tenant: "acme", Endpoint: key, Subject: "disk full on db-1", Message: "…", Attributes: map[string]string{"severity": "error"}, Timestamp: changed}
	if res := pd.Send(ctx, d); res.Err != nil {
		t.Fatal(res.Err)
	}
	if p := ep.bodies[0]["payload"].(map[string]any); ep.bodies[0]["dedup_key"] != "m-9" || p["summary"] != "disk full on db-1" || p["severity"] != "error" {
		t.Errorf("published: %v", ep.bodies[0])
	}
}

func TestPagerDutyErrors(t *testing.T) {
	bad := newEndpoint(t, 400, `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.summary' is missing"]}`)
	res := PagerDuty{Client: http.DefaultClient, URL: bad.srv.URL}.Send(context.Background(), alarmDelivery("KEY1", cpuHigh))
	if !res.Permanent || res.Status != 400 || !strings.Contains(res.Err.Error(), "payload.summary") {
		t.Errorf("400: %+v", res)
	}
	busy := newEndpoint(t, 429, `{"status":"throttle"}`)
	if res := (PagerDuty{Client: http.DefaultClient, URL: busy.srv.URL}).Send(context.Background(), alarmDelivery("KEY1", cpuHigh)); res.Permanent || res.Err == nil {
		t.Errorf("429: %+v, want a retry", res)
	}
}
