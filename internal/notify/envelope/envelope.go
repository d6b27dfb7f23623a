// Package envelope builds the JSON envelope Mirador POSTs to webhook
// subscribers, in SNS's HTTP delivery shape, and signs it with
// HMAC-SHA256 under the subscription's secret so the receiver can check
// that the message is from Mirador and unaltered.
//
// The MessageId is the same on every delivery attempt of one message: it
// is the idempotency key with which a receiver drops duplicates (after a
// crash between sending and recording, a message is sent again).
package envelope

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message types (header x-amz-sns-message-type and the Type field).
const (
	Notification             = "Notification"
	SubscriptionConfirmation = "SubscriptionConfirmation"
	UnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// SignatureVersion names the signing scheme in the envelope: HMAC-SHA256
// of the SNS string-to-sign, hex-encoded (SNS's own versions 1 and 2 are
// RSA signatures over the same string).
const SignatureVersion = "mirador-hmac-sha256"

// SignatureHeader carries the signature too, for receivers that check a
// header before parsing the body.
const SignatureHeader = "X-Mirador-Signature"

// Envelope is one delivery's body.
type Envelope struct {
	Type              string               `json:"Type"`
	MessageID         string               `json:"MessageId"`
	Token             string               `json:"Token,omitempty"`
	TopicArn          string               `json:"TopicArn"`
	Subject           string               `json:"Subject,omitempty"`
	Message           string               `json:"Message"`
	SubscribeURL      string               `json:"SubscribeURL,omitempty"`
	Timestamp         string               `json:"Timestamp"`
	SignatureVersion  string               `json:"SignatureVersion"`
	Signature         string               `json:"Signature"`
	UnsubscribeURL    string               `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]Attribute `json:"MessageAttributes,omitempty"`
}

// Attribute is a message attribute as the envelope shows it.
type Attribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// Timestamp formats t as SNS does: ISO 8601, milliseconds, Z.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// StringToSign is SNS's: "key\nvalue\n" for the signed keys in order —
// for notifications Message, MessageId, Subject (if any), Timestamp,
// TopicArn, Type; for confirmations Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn, Type.
func (e *Envelope) StringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", e.Message)
	add("MessageId", e.MessageID)
	if e.Type == Notification {
		if e.Subject != "" {
			add("Subject", e.Subject)
		}
	} else {
		add("SubscribeURL", e.SubscribeURL)
	}
	add("Timestamp", e.Timestamp)
	if e.Type != Notification {
		add("Token", e.Token)
	}
	add("TopicArn", e.TopicArn)
	add("Type", e.Type)
	return b.String()
}

// Sign sets SignatureVersion and Signature from secret.
func (e *Envelope) Sign(secret []byte) {
	e.SignatureVersion = SignatureVersion
	e.Signature = e.mac(secret)
}

func (e *Envelope) mac(secret []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(e.StringToSign()))
	return hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature is returned by Verify for a message not signed with the
// secret, or changed since.
var ErrBadSignature = errors.New("signature does not match")

// Verify checks e's signature against secret and that it is no older than
// maxAge (0: any age), as a receiver should.
func (e *Envelope) Verify(secret []byte, maxAge time.Duration, now time.Time) error {
	if e.SignatureVersion != SignatureVersion {
		return fmt.Errorf("%w: SignatureVersion %q, want %q", ErrBadSignature, e.SignatureVersion, SignatureVersion)
	}
	if !hmac.Equal([]byte(e.Signature), []byte(e.mac(secret))) {
		return ErrBadSignature
	}
	if maxAge > 0 {
		t, err := time.Parse("2006-01-02T15:04:05.000Z", e.Timestamp)
		if err != nil {
			return fmt.Errorf("%w: Timestamp %q is not ISO 8601", ErrBadSignature, e.Timestamp)
		}
		if now.Sub(t) > maxAge {
			return fmt.Errorf("message of %s is older than %s: a replay?", e.Timestamp, maxAge)
		}
	}
	return nil
}
