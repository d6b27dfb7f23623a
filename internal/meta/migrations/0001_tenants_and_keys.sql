-- Tenants and the API keys that authenticate requests to them.
-- $1 is the time this migration is applied, in unix milliseconds.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

INSERT INTO tenants (id, created_at) VALUES ('default', $1);

-- secret_hash is the SHA-256 hex digest of the secret; the secret itself is
-- never stored. scopes is a comma-separated list such as 'ingest,read'.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE INDEX api_keys_tenant_id ON api_keys (tenant_id);
