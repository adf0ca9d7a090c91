-- The enrichment datastore's PostgreSQL tables (docs/enrichment.md), made by qualityd when
-- missing. `{schema}` is replaced by the configured schema, quoted.
CREATE TABLE IF NOT EXISTS {schema}.anomalies (
    anomaly_id bigint PRIMARY KEY,
    datastore text NOT NULL,
    container text NOT NULL,
    check_id bigint,
    rule text NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    message text NOT NULL,
    fields text[] NOT NULL,
    failed_rows bigint NOT NULL,
    rows bigint NOT NULL,
    first_scan_id bigint NOT NULL,
    last_scan_id bigint NOT NULL,
    scans_seen bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.failing_records (
    anomaly_id bigint NOT NULL REFERENCES {schema}.anomalies ON DELETE CASCADE,
    scan_id bigint NOT NULL,
    row bigint NOT NULL,
    record jsonb NOT NULL,
    highlighted text[] NOT NULL,
    PRIMARY KEY (anomaly_id, scan_id, row)
);
