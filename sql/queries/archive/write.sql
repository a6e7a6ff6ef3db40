-- DuckDB: one run's events, as PostgreSQL's COPY text of audit_run_events_query()
-- gives them ({rows}: a FIFO), written to its Parquet file ({file}), zstd-compressed.
-- The columns of audit_event (release, job and run are the file's folders: release=…/
-- job=…/run=…), then the fields people filter on, pulled out of data once here:
-- verb, objectRef's apiGroup, apiVersion, resource, subresource, namespace and name,
-- responseStatus.code, user.username, and the two timestamps. A field that is absent,
-- or of another type (data is outside input), is null. data stays whole, as JSON
-- text. zstd at level 3: about 100 bytes an event of 0.8 kB (level 1 is 5 % larger and
-- 10 % faster; 5 and up, 10-20 % smaller and twice as slow). Parameters: $run (the
-- run's id), $release_date, $source, $ingested_at.
COPY (
  WITH e AS (
    SELECT n, copy_text(audit_id) AS audit_id, copy_text(endpoint) AS endpoint,
           copy_text(useragent) AS useragent, copy_text(test) AS test, test_hit,
           conf_test_hit, copy_json(data) AS data, copy_text(error) AS error
    FROM read_csv({rows}, delim = '\t', quote = '', escape = '', header = false,
                  nullstr = '\N', auto_detect = false, parallel = false,
                  columns = {'n': 'BIGINT', 'audit_id': 'VARCHAR', 'endpoint': 'VARCHAR',
                             'useragent': 'VARCHAR', 'test': 'VARCHAR',
                             'test_hit': 'BOOLEAN', 'conf_test_hit': 'BOOLEAN',
                             'data': 'VARCHAR', 'error': 'VARCHAR'})
  ), f AS (
    SELECT *, json_transform(data, '{"verb": "VARCHAR",
        "objectRef": {"apiGroup": "VARCHAR", "apiVersion": "VARCHAR", "resource": "VARCHAR",
                      "subresource": "VARCHAR", "namespace": "VARCHAR", "name": "VARCHAR"},
        "responseStatus": {"code": "INTEGER"}, "user": {"username": "VARCHAR"},
        "requestReceivedTimestamp": "TIMESTAMPTZ", "stageTimestamp": "TIMESTAMPTZ"}') AS j
    FROM e
  )
  SELECT (CAST($run AS BIGINT) << 40) + n AS id,
         CAST($release_date AS VARCHAR) AS release_date,
         audit_id, endpoint, useragent, test, test_hit, conf_test_hit,
         data, CAST($source AS VARCHAR) AS source,
         CAST($ingested_at AS TIMESTAMP) AS ingested_at, error,
         j.verb AS verb,
         j.objectRef.apiGroup AS api_group,
         j.objectRef.apiVersion AS api_version,
         j.objectRef.resource AS resource,
         j.objectRef.subresource AS subresource,
         j.objectRef.namespace AS namespace,
         j.objectRef.name AS name,
         j.responseStatus.code AS code,
         j.user.username AS username,
         j.requestReceivedTimestamp AS request_received_timestamp,
         j.stageTimestamp AS stage_timestamp
  FROM f
) TO {file} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3)
