-- DuckDB: what a run's Parquet file ($file) holds, to compare with what PostgreSQL held
-- (checksum_events.sql): its events, the sum of a number drawn from each event's id and
-- auditID (the first 60 bits of md5(id || '/' || audit_id)), and the sources named in
-- it (one: the run's).
SELECT count(*) AS events,
       coalesce(sum(CAST('0x' || substr(md5(CAST(id AS VARCHAR) || '/' || coalesce(audit_id, '')),
                                        1, 15) AS BIGINT)), 0) AS checksum,
       count(DISTINCT source) AS sources,
       min(source) AS source
FROM read_parquet($file)
