-- Alarms, topics, subscriptions and the notification outbox of each tenant.
--
-- An alarm's configuration is JSON (its shape belongs to package alarms);
-- its state is in columns so the evaluator updates it without rewriting
-- the configuration. A state change and the outbox rows of the
-- notifications it causes are written in one transaction, so a crash can
-- lose neither.

CREATE TABLE alarms (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    config           TEXT NOT NULL,
    state            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    reason_data      TEXT NOT NULL,
    state_updated_at BIGINT NOT NULL,
    transitioned_at  BIGINT NOT NULL,
    evaluated_at     BIGINT NOT NULL,
    notified_at      BIGINT NOT NULL,
    recent           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE mute_windows (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    labels     TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE topics (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    group_window_ms BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- status is pending (waiting for the endpoint to confirm) or confirmed.
-- token_hash is the SHA-256 of the confirmation token; the token itself
-- travels only in the confirmation message. secret signs webhook
-- deliveries and is never returned by the API after creation.
CREATE TABLE subscriptions (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    topic         TEXT NOT NULL,
    protocol      TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    secret        TEXT NOT NULL,
    filter_policy TEXT NOT NULL,
    filter_scope  TEXT NOT NULL,
    retry_policy  TEXT NOT NULL,
    raw_delivery  INTEGER NOT NULL,
    status        TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, topic) REFERENCES topics (tenant_id, name) ON DELETE CASCADE
);

CREATE INDEX subscriptions_by_topic ON subscriptions (tenant_id, topic);

-- One row per message per subscription. message_id is the idempotency key
-- the receiver sees on every attempt. state: pending, delivered, dead
-- (retries exhausted or a permanent failure). payload is the message as
-- JSON (subject, body, attributes, alarm changes, confirmation token).
-- group_key is set while a topic's grouping window holds the row. seq
-- orders a subscription's messages: they are delivered one at a time,
-- oldest first.
CREATE TABLE outbox (
    tenant_id       TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    subscription_id TEXT NOT NULL,
    topic           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    group_key       TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, message_id, subscription_id)
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_subscription ON outbox (state, tenant_id, subscription_id, seq);

CREATE TABLE delivery_attempts (
    tenant_id       TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    at              BIGINT NOT NULL,
    status_code     INTEGER NOT NULL,
    latency_us      BIGINT NOT NULL,
    error           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, message_id, subscription_id, attempt)
);
