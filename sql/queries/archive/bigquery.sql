-- BigQuery: an archive in Cloud Storage ({prefix}: gs://BUCKET/PREFIX, as `snoopdb runs
-- archive --to` wrote it) as an external table of dataset {dataset}, partitioned by its
-- folders (release=…/job=…/run=…: a filter on release, job or run reads only those
-- runs' files), and the audit_event view over it: PostgreSQL's columns in its order,
-- data as JSON, then the fields pulled out of data, then job and run.
CREATE EXTERNAL TABLE `{dataset}.{table}_files`
WITH PARTITION COLUMNS (release STRING, job STRING, run STRING)
OPTIONS (
  format = 'PARQUET',
  uris = ['{prefix}/*'],
  hive_partition_uri_prefix = '{prefix}',
  require_hive_partition_filter = false
);

CREATE VIEW `{dataset}.{table}` AS
SELECT release, release_date, audit_id, endpoint, useragent, test, test_hit, conf_test_hit,
       SAFE.PARSE_JSON(data) AS data, source, id, ingested_at, error,
       verb, api_group, api_version, resource, subresource, namespace, name, code, username,
       request_received_timestamp, stage_timestamp, job, run
FROM `{dataset}.{table}_files`;
