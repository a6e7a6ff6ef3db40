-- What a run held in PostgreSQL, as checksum.sql reads its Parquet file: its events and
-- the sum of the first 60 bits of md5(id || '/' || audit_id) of each. {events} is the
-- run's audit_run_events_query(); %(run)s its id.
SELECT count(*) AS events,
       coalesce(sum(('x' || substr(md5(((%(run)s::bigint << 40) + e.n)::text || '/'
                                       || coalesce(e.audit_id, '')), 1, 15))::bit(60)::bigint),
                0) AS checksum
FROM ({events}) e
