-- CloudWatch Logs metric filters of each tenant: a filter pattern over a
-- log group's records and one metric transformation (as JSON in
-- CloudWatch's shape: metricName, metricNamespace, metricValue,
-- defaultValue, dimensions, unit).

CREATE TABLE metric_filters (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    log_group      TEXT NOT NULL,
    name           TEXT NOT NULL,
    pattern        TEXT NOT NULL,
    transformation TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, log_group, name)
);
