-- Log groups of each tenant. retention_days NULL means never expire.

CREATE TABLE log_groups (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    name           TEXT NOT NULL,
    retention_days INTEGER,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
