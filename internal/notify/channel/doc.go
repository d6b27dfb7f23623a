// Package channel delivers one notification to one subscription endpoint:
// a signed webhook, a Slack incoming webhook, an e-mail over SMTP, a
// PagerDuty Events API v2 event, or a record in a log group. Each protocol
// is a Sender; the outbox (package notify) decides when to call it and
// records what it returned.
//
// It must not import the outbox, the alarms or any API package: it knows a
// Delivery and the wire formats, nothing about where a Delivery came from.
package channel
