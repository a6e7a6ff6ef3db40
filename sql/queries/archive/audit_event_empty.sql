-- DuckDB: audit_event of an archive with no file yet: audit_event.sql's columns and
-- types, no row.
CREATE VIEW audit_event AS
SELECT NULL::VARCHAR AS release, NULL::VARCHAR AS release_date, NULL::VARCHAR AS audit_id,
       NULL::VARCHAR AS endpoint, NULL::VARCHAR AS useragent, NULL::VARCHAR AS test,
       NULL::BOOLEAN AS test_hit, NULL::BOOLEAN AS conf_test_hit, NULL::JSON AS data,
       NULL::VARCHAR AS source, NULL::BIGINT AS id, NULL::TIMESTAMP AS ingested_at,
       NULL::VARCHAR AS error, NULL::VARCHAR AS verb, NULL::VARCHAR AS api_group,
       NULL::VARCHAR AS api_version, NULL::VARCHAR AS resource, NULL::VARCHAR AS subresource,
       NULL::VARCHAR AS namespace, NULL::VARCHAR AS name, NULL::INTEGER AS code,
       NULL::VARCHAR AS username, NULL::TIMESTAMPTZ AS request_received_timestamp,
       NULL::TIMESTAMPTZ AS stage_timestamp, NULL::VARCHAR AS job, NULL::VARCHAR AS run
WHERE false
