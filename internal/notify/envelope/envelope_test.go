package envelope

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStringToSignOrder(t *testing.T) {
	n := Envelope{Type: Notification, MessageID: "m-1", TopicArn: "arn:aws:sns:us-east-1:000000000000:alerts", Subject: "ALARM: \"cpu\"", Message: "{}", Timestamp: "2026-11-22T10:00:00.000Z"}
	want := "Message\n{}\nMessageId\nm-1\nSubject\nALARM: \"cpu\"\nTimestamp\n2026-11-22T10:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:000000000000:alerts\nType\nNotification\n"
	if got := n.StringToSign(); got != want {
		t.Errorf("notification:\n%q\nwant\n%q", got, want)
	}
	n.Subject = ""
	if strings.Contains(n.StringToSign(), "Subject") {
		t.Error("an empty Subject is signed")
	}
	c := Envelope{Type: SubscriptionConfirmation, MessageID: "m-2", Token: "tok", TopicArn: "arn", Message: "confirm", SubscribeURL: "http://x/confirm", Timestamp: "t"}
	want = "Message\nconfirm\nMessageId\nm-2\nSubscribeURL\nhttp://x/confirm\nTimestamp\nt\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n"
	if got := c.StringToSign(); got != want {
		t.Errorf("confirmation:\n%q\nwant\n%q", got, want)
	}
}

func TestSignAndVerify(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e := Envelope{Type: Notification, MessageID: "m-1", TopicArn: "arn", Message: "hello", Timestamp: Timestamp(now)}
	secret := []byte("s3cret")
	e.Sign(secret)
	// What travels is JSON: the receiver verifies what it decoded.
	b, _ := json.Marshal(e)
	var got Envelope
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(secret, 5*time.Minute, now.Add(time.Minute)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := got.Verify([]byte("other"), 0, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong secret: %v", err)
	}
	tampered := got
	tampered.Message = "HELLO"
	if err := tampered.Verify(secret, 0, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered message: %v", err)
	}
	if err := got.Verify(secret, 5*time.Minute, now.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "older than") {
		t.Errorf("stale message: %v", err)
	}
	if got.Signature == "" || len(got.Signature) != 64 || got.SignatureVersion != SignatureVersion {
		t.Errorf("signature %q version %q", got.Signature, got.SignatureVersion)
	}
}
