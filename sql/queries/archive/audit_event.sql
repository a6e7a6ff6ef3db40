-- DuckDB: audit_event over an archive's Parquet files ({files}: the list of them),
-- with the columns of PostgreSQL's audit_event in its order — data as JSON, so that
-- `data->>'verb'` and `data->'objectRef'->>'resource'` run as they do in psql — then
-- the fields pulled out of data (write.sql), then the run's job and run (release, job
-- and run are the files' folders, release=…/job=…/run=…).
CREATE VIEW audit_event AS
SELECT release, release_date, audit_id, endpoint, useragent, test, test_hit, conf_test_hit,
       CAST(data AS JSON) AS data, source, id, ingested_at, error,
       verb, api_group, api_version, resource, subresource, namespace, name, code, username,
       request_received_timestamp, stage_timestamp, job, run
FROM read_parquet({files}, hive_partitioning = true,
                  hive_types = {'release': VARCHAR, 'job': VARCHAR, 'run': VARCHAR})
