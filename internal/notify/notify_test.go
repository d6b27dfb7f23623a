package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/envelope"
	"github.com/miradorhq/mirador/internal/notify/filterpolicy"
	"github.com/miradorhq/mirador/internal/notify/safeurl"
)

// receiver is a webhook endpoint that records what it gets and answers
// with the statuses queued in fail (then 200).
type receiver struct {
	mu   sync.Mutex
	got  []received
	fail []int
	srv  *httptest.Server
}

type received struct {
	header http.Header
	env    envelope.Envelope
	raw    string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env envelope.Envelope
		_ = json.Unmarshal(body, &env)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), env, string(body)})
		status := http.StatusOK
		if len(r.fail) > 0 {
			status, r.fail = r.fail[0], r.fail[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]received(nil), r.got...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("receiver got %d requests, want %d", len(r.got), n)
	return nil
}

type fixture struct {
	svc  *Service
	db   *meta.Store
	stop func()
}

func newService(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	store, err := meta.Open(context.Background(), meta.Options{DSN: filepath.Join(t.TempDir(), "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "other"} {
		if _, err := store.DB().Exec(`INSERT INTO tenants (id, created_at) VALUES ($1, 1)`, id); err != nil {
			t.Fatal(err)
		}
	}
	client := channel.NewHTTPClient(safeurl.Policy{AllowPrivate: true}, 5*time.Second)
	opts := Options{
		DB:            store.DB(),
		Senders:       map[string]channel.Sender{ProtocolWebhook: channel.Webhook{Client: client}},
		URLPolicy:     safeurl.Policy{AllowPrivate: true},
		PublicURL:     "http://mirador.test",
		PollInterval:  20 * time.Millisecond,
		jitterDisable: true,
		DefaultRetry: func(string) RetryPolicy {
			return RetryPolicy{NumRetries: 2, NumNoDelayRetries: 2}
		},
	}
	if mod != nil {
		mod(&opts)
	}
	f := &fixture{svc: New(opts), db: store, stop: func() {}}
	f.start()
	t.Cleanup(func() { f.stop(); store.Close() })
	return f
}

// start runs the dispatcher until stop.
func (f *fixture) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.svc.Run(ctx); close(done) }()
	f.stop = func() { cancel(); <-done; f.stop = func() {} }
}

func mustTopic(t *testing.T, s *Service, tenant, name string, window time.Duration) {
	t.Helper()
	if _, err := s.PutTopic(context.Background(), tenant, Topic{Name: name, GroupWindow: window}); err != nil {
		t.Fatal(err)
	}
}

func waitState(t *testing.T, s *Service, tenant, msg, state string) DeliveryRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := s.Deliveries(context.Background(), tenant, DeliveryFilter{MessageID: msg})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].State == state {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery of %s: %+v, want state %s", msg, ds, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPublishDeliversSignedEnvelope(t *testing.T) {
	f := newService(t, nil)
	rcv := newReceiver(t)
	ctx := context.Background()
	mustTopic(t, f.svc, "acme", "ops", 0)
	sub, err := f.svc.Subscribe(ctx, "acme", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Secret == "" || sub.Status != StatusConfirmed {
		t.Fatalf("subscription %+v: want a generated secret and confirmed", sub)
	}
	id, n, err := f.svc.Publish(ctx, "acme", "ops", Message{Subject: "deploy", Body: "v2 is out",
		Attributes: map[string]filterpolicy.Attribute{"env": {DataType: "String", Value: "prod"}}})
	if err != nil || n != 1 {
		t.Fatalf("publish: %v, %d deliveries", err, n)
	}
	got := rcv.wait(t, 1)[0]
	env := got.env
	if err := env.Verify([]byte(sub.Secret), time.Minute, time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if env.MessageID != id || env.Message != "v2 is out" || env.Subject != "deploy" || env.TopicArn != f.svc.TopicARN("ops") || env.MessageAttributes["env"].Value != "prod" {
		t.Errorf("envelope %+v", env)
	}
	for h, want := range map[string]string{"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": id, "x-amz-sns-subscription-arn": sub.ARN, envelope.SignatureHeader: env.Signature} {
		if got.header.Get(h) != want {
			t.Errorf("header %s = %q, want %q", h, got.header.Get(h), want)
		}
	}
	if err := env.Verify([]byte("wrong"), 0, time.Now()); !errors.Is(err, envelope.ErrBadSignature) {
		t.Errorf("verify with the wrong secret: %v", err)
	}
	d := waitState(t, f.svc, "acme", id, StateDelivered)
	if len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 {
		t.Errorf("attempts %+v", d.Attempts)
	}
}

func TestRetriesKeepTheMessageIDThenDeadLetter(t *testing.T) {
	f := newService(t, nil)
	rcv := newReceiver(t)
	rcv.fail = []int{503, 500}
	ctx := context.Background()
	mustTopic(t, f.svc, "acme", "ops", 0)
	if _, err := f.svc.Subscribe(ctx, "acme", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: rcv.srv.URL}); err != nil {
		t.Fatal(err)
	}
	id, _, err := f.svc.Publish(ctx, "acme", "ops", Message{Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	got := rcv.wait(t, 3)
	for _, g := range got {
		if g.env.MessageID != id {
			t.Errorf("attempt carried MessageId %s, want %s on every attempt", g.env.MessageID, id)
		}
	}
	d := waitState(t, f.svc, "acme", id, StateDelivered)
	if len(d.Attempts) != 3 || d.Attempts[0].StatusCode != 503 || d.Attempts[1].StatusCode != 500 || d.Attempts[2].StatusCode != 200 || d.Attempts[0].Error == "" {
		t.Errorf("attempts %+v", d.Attempts)
	}

	// Retries exhausted: dead.
	rcv.mu.Lock()
	rcv.fail = []int{500, 500, 500}
	rcv.mu.Unlock()
	id, _, _ = f.svc.Publish(ctx, "acme", "ops", Message{Body: "doomed"})
	d = waitState(t, f.svc, "acme", id, StateDead)
	if len(d.Attempts) != 3 {
		t.Errorf("dead after %d attempts, want 3 (1 + numRetries 2)", len(d.Attempts))
	}
	// A permanent failure dead-letters at once; redrive gives one more try.
	rcv.mu.Lock()
	rcv.fail = []int{400}
	rcv.mu.Unlock()
	id, _, _ = f.svc.Publish(ctx, "acme", "ops", Message{Body: "bad"})
	d = waitState(t, f.svc, "acme", id, StateDead)
	if len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 400 {
		t.Errorf("4xx: attempts %+v, want one", d.Attempts)
	}
	if err := f.svc.Redrive(ctx, "acme", id, d.SubscriptionID); err != nil {
		t.Fatal(err)
	}
	d = waitState(t, f.svc, "acme", id, StateDelivered)
	if len(d.Attempts) != 2 {
		t.Errorf("after redrive: %d attempts, want 2", len(d.Attempts))
	}
}

func TestFilterPolicySelectsSubscriptions(t *testing.T) {
	f := newService(t, nil)
	prod, dev := newReceiver(t), newReceiver(t)
	ctx := context.Background()
	mustTopic(t, f.svc, "acme", "ops", 0)
	for _, s := range []struct {
		r      *receiver
		policy string
	}{{prod, `{"env":["prod"]}`}, {dev, `{"env":[{"anything-but":"prod"}]}`}} {
		if _, err := f.svc.Subscribe(ctx, "acme", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: s.r.srv.URL, FilterPolicy: s.policy}); err != nil {
			t.Fatal(err)
		}
	}
	_, n, err := f.svc.Publish(ctx, "acme", "ops", Message{Body: "p", Attributes: map[string]filterpolicy.Attribute{"env": {DataType: "String", Value: "prod"}}})
	if err != nil || n != 1 {
		t.Fatalf("publish: %v, %d deliveries, want 1", err, n)
	}
	if got := prod.wait(t, 1); got[0].env.Message != "p" {
		t.Errorf("prod got %q", got[0].env.Message)
	}
	if _, err := f.svc.Subscribe(ctx, "acme", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: prod.srv.URL, FilterPolicy: `{"env":[{"numeric":["<"]}]}`}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad policy: %v, want ErrInvalid", err)
	}
}

func TestGroupingWindowSendsOneMessage(t *testing.T) {
	f := newService(t, nil)
	rcv := newReceiver(t)
	ctx := context.Background()
	mustTopic(t, f.svc, "acme", "ops", 300*time.Millisecond)
	if _, err := f.svc.Subscribe(ctx, "acme", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: rcv.srv.URL}); err != nil {
		t.Fatal(err)
	}
	var first string
	for i, name := range []string{"cpu", "disk", "mem"} {
		id, _, err := f.svc.Publish(ctx, "acme", "ops", Message{Body: `{"AlarmName":"` + name + `"}`,
			Alarms: []channel.AlarmChange{{AlarmName: name, NewState: channel.StateAlarm}}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		}
	}
	got := rcv.wait(t, 1)
	time.Sleep(100 * time.Millisecond)
	if len(rcv.got) != 1 {
		t.Fatalf("%d deliveries, want 1 grouped", len(rcv.got))
	}
	var msgs []map[string]string
	if err := json.Unmarshal([]byte(got[0].env.Message), &msgs); err != nil || len(msgs) != 3 || msgs[2]["AlarmName"] != "mem" {
		t.Errorf("grouped message %q (%v)", got[0].env.Message, err)
	}
	if got[0].env.MessageID != first || got[0].env.Subject != "3 alarms changed state" {
		t.Errorf("grouped envelope id %s subject %q, want the first message's id %s", got[0].env.MessageID, got[0].env.Subject, first)
	}
}

func TestConfirmationHandshake(t *testing.T) {
	f := newService(t, nil)
	rcv := newReceiver(t)
	ctx := context.Background()
	mustTopic(t, f.svc, "acme", "ops", 0)
	sub, err := f.svc.Subscribe(ctx, "acme", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: rcv.srv.URL, Confirm: true})
	if err != nil || sub.Status != StatusPending {
		t.Fatalf("subscribe: %v, %+v", err, sub)
	}
	got := rcv.wait(t, 1)[0]
	if got.env.Type != envelope.SubscriptionConfirmation || got.env.Token == "" || !strings.HasPrefix(got.env.SubscribeURL, "http://mirador.test/api/v1/subscriptions/confirm?") {
		t.Fatalf("confirmation %+v", got.env)
	}
	if err := got.env.Verify([]byte(sub.Secret), 0, time.Now()); err != nil {
		t.Errorf("confirmation signature: %v", err)
	}
	if _, n, _ := f.svc.Publish(ctx, "acme", "ops", Message{Body: "early"}); n != 0 {
		t.Errorf("a pending subscription got %d deliveries", n)
	}
	if _, err := f.svc.Confirm(ctx, "acme", sub.ID, "nope"); !errors.Is(err, ErrBadToken) {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := f.svc.Confirm(ctx, "other", sub.ID, got.env.Token); !errors.Is(err, ErrSubscriptionNotFound) {
		t.Errorf("other tenant: %v", err)
	}
	if s, err := f.svc.Confirm(ctx, "acme", sub.ID, got.env.Token); err != nil || s.Status != StatusConfirmed {
		t.Fatalf("confirm: %v %+v", err, s)
	}
	if _, n, _ := f.svc.Publish(ctx, "acme", "ops", Message{Body: "now"}); n != 1 {
		t.Errorf("confirmed subscription got %d deliveries", n)
	}
}

func TestSubscriptionValidation(t *testing.T) {
	f := newService(t, func(o *Options) { o.URLPolicy = safeurl.Policy{} })
	ctx := context.Background()
	mustTopic(t, f.svc, "acme", "ops", 0)
	for _, sub := range []Subscription{
		{Protocol: ProtocolWebhook, Endpoint: "http://169.254.169.254/latest/meta-data"},
		{Protocol: ProtocolWebhook, Endpoint: "http://127.0.0.1:9/hook"}, // private refused by this policy
		{Protocol: ProtocolWebhook, Endpoint: "ftp://example.com/x"},
		{Protocol: "sms", Endpoint: "+15550100"},
		{Protocol: ProtocolWebhook, Endpoint: "http://1.2.3.4/", RetryPolicy: &RetryPolicy{NumRetries: 101}},
	} {
		if _, err := f.svc.Subscribe(ctx, "acme", "ops", sub); !errors.Is(err, ErrInvalid) {
			t.Errorf("Subscribe(%s %s): %v, want ErrInvalid", sub.Protocol, sub.Endpoint, err)
		}
	}
	if _, err := f.svc.Subscribe(ctx, "other", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: "http://1.2.3.4/"}); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("another tenant's topic: %v", err)
	}
}

func TestRetryPolicyDelays(t *testing.T) {
	p := DefaultRetryPolicy(ProtocolWebhook)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	var prev time.Duration
	for k := 1; k <= p.NumRetries; k++ {
		d, ok := p.Delay(k, false)
		if !ok || d < prev || d < 5*time.Second || d > 300*time.Second {
			t.Errorf("retry %d: %s (ok %v) after %s: want non-decreasing within 5s..300s", k, d, ok, prev)
		}
		prev = d
	}
	if _, ok := p.Delay(p.NumRetries+1, false); ok {
		t.Error("a retry beyond numRetries")
	}
	sns := RetryPolicy{NumRetries: 3, MinDelayTarget: 20, MaxDelayTarget: 20, BackoffFunction: BackoffLinear}
	for k := 1; k <= 3; k++ {
		if d, _ := sns.Delay(k, false); d != 20*time.Second {
			t.Errorf("SNS's HTTP default, retry %d: %s, want 20s", k, d)
		}
	}
	if err := (RetryPolicy{NumRetries: 100, NumMaxDelayRetries: 100, MinDelayTarget: 1, MaxDelayTarget: 3600}).Validate(); err == nil {
		t.Error("a policy spanning 100 hours validated")
	}
}

func TestSubscriptionGetsMessagesInOrderEvenAcrossRetries(t *testing.T) {
	f := newService(t, nil)
	rcv := newReceiver(t)
	rcv.fail = []int{500} // the first message needs a retry; the rest must wait for it
	ctx := context.Background()
	mustTopic(t, f.svc, "acme", "ops", 0)
	if _, err := f.svc.Subscribe(ctx, "acme", "ops", Subscription{Protocol: ProtocolWebhook, Endpoint: rcv.srv.URL}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if _, _, err := f.svc.Publish(ctx, "acme", "ops", Message{Body: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := rcv.wait(t, n+1)
	var bodies []string
	for _, g := range got[1:] {
		bodies = append(bodies, g.env.Message)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprint(i)
	}
	if strings.Join(bodies, ",") != strings.Join(want, ",") {
		t.Errorf("delivered in order %v, want %v", bodies, want)
	}
}
