-- X-Ray sampling rules of each tenant. rule is the rule as JSON in the
-- X-Ray SamplingRule shape (RuleName, Priority, FixedRate, …); name and
-- priority are copied out of it for keys and ordering. The built-in Default
-- rule has a row only once a tenant has updated it.

CREATE TABLE sampling_rules (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    rule        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- last_modified is when the tenant's rules last changed (create, update or
-- delete), unix milliseconds; GetSamplingTargets reports it so clients know
-- to fetch the rules again.
CREATE TABLE sampling_rule_changes (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants (id),
    last_modified BIGINT NOT NULL
);
