// Package notify owns topics, subscriptions and the durable outbox through
// which every notification leaves Mirador: alarm state changes, Prometheus
// alerts and messages applications publish.
//
// A message is written to the outbox, one row per matching subscription,
// in the caller's transaction (Enqueue), so an alarm's state change and
// its notifications commit or vanish together. A dispatcher delivers due
// rows through the protocol senders of package channel, records every
// attempt, retries with backoff and jitter under the subscription's retry
// policy, and dead-letters a message after its last attempt. The message
// id is the same on every attempt: the receiver's idempotency key, since a
// crash between sending and recording sends a message again.
//
// It works on the meta store's tables through database/sql (and meta's
// transaction helper), and imports the leaf packages channel, envelope,
// filterpolicy and safeurl; never alarms or an API package.
package notify
