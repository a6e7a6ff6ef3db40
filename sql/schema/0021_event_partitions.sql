-- audit_event read through partitions (revision 0021): a query restricted to one run
-- or one release locks that run's or release's tables only, whatever the number of
-- runs (#31, cases 20 and 27).
--
-- Until now audit_event was a view with one UNION ALL branch per run. PostgreSQL
-- locks every table a view names before it plans, so even a query the planner pruned
-- to one run held a lock on every run's table — at hundreds of runs the lock table
-- ran out and planning grew with the runs. Now the runs' tables are partitions of two
-- tables partitioned by release, each release's part partitioned by source:
-- runs.events (hot runs' tables, runs.events_<run>) and runs.chunks (compact runs',
-- runs.chunks_<run>). The view names those two only; the planner opens (and locks)
-- just the partitions that a condition on release or source leaves.
--
-- A run's values (run, release, release_date, source, ingested_at) are columns of its
-- table added after its rows are written, with the value as the column's default:
-- PostgreSQL keeps such a value once in the catalog, not in each row, so a run's
-- events take no more room than before. Attaching a table checks its rows against its
-- partition's bounds (one read of the table, no rewrite).
--
-- audit_event_rebuild() keeps its name and its callers: it now brings the partitions
-- in line with audit_run (detaching the tables of runs gone, archived, in another
-- state or left out, attaching new ones) instead of rewriting the view.

CREATE TABLE runs.events (
  n bigint, audit_id text, endpoint text, error text, useragent text, test text,
  test_hit boolean, conf_test_hit boolean, data jsonb,
  run bigint, release text, release_date text, source text, ingested_at timestamp
) PARTITION BY LIST (release);
COMMENT ON TABLE runs.events IS
  'The hot runs'' events (runs.events_<run>), partitioned by release (runs.events_release_<X_Y_Z>), then by source';

CREATE TABLE runs.chunks (
  first bigint, events integer, ev audit_event_values[], data jsonb[],
  run bigint, release text, release_date text, source text, ingested_at timestamp
) PARTITION BY LIST (release);
COMMENT ON TABLE runs.chunks IS
  'The compact runs'' chunks (runs.chunks_<run>), partitioned by release (runs.chunks_release_<X_Y_Z>), then by source';

-- Where each hot or compact run's table belongs (but run except_run): its table, the
-- root (events or chunks) and the release's part of it.
CREATE FUNCTION audit_event_partition(except_run bigint)
RETURNS TABLE (run bigint, kind text, part text, level text, release text,
               release_date text, source text, ingested_at timestamp)
LANGUAGE sql STABLE AS $$
  SELECT r.run, k.kind, k.kind || '_' || r.run,
         k.kind || '_release_' || regexp_replace(r.release, '[^A-Za-z0-9]', '_', 'g'),
         r.release, r.release_date, r.source, r.loaded_at
  FROM audit_run r
  CROSS JOIN LATERAL (SELECT CASE r.state WHEN 'hot' THEN 'events' ELSE 'chunks' END AS kind) k
  WHERE r.state IN ('hot', 'compact') AND r.run IS DISTINCT FROM except_run
$$;
COMMENT ON FUNCTION audit_event_partition(bigint) IS
  'Each hot or compact run''s table (but run except_run), and the partition of runs.events or runs.chunks it belongs in';

CREATE OR REPLACE FUNCTION audit_event_rebuild(except_run bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  p record;
  -- the releases' parts no run belongs in (but except_run, which may come back to its
  -- part or move: a swap's second call, except_run back, finds no part this one missed)
  doomed text[] := ARRAY(
    SELECT level.relname::text
    FROM pg_inherits top
    JOIN pg_class level ON level.oid = top.inhrelid
    WHERE top.inhparent IN ('runs.events'::regclass, 'runs.chunks'::regclass)
      AND level.relname::text NOT IN (
        SELECT w.level FROM audit_event_partition(except_run) w));
BEGIN
  -- Dropping a release's part locks runs.events or runs.chunks after the part, the
  -- other way round from a reader (the partitioned tables, the part, a run's table):
  -- a reader and this transaction could each wait for the other. So when a part may
  -- go in this transaction, both are locked first, before any part, and alone (ONLY:
  -- not every run's table under them).
  IF cardinality(doomed) > 0 THEN
    LOCK TABLE ONLY runs.events, ONLY runs.chunks IN ACCESS EXCLUSIVE MODE;
  END IF;
  FOR p IN
    SELECT level.relname AS level, part.relname AS part
    FROM pg_inherits top
    JOIN pg_class level ON level.oid = top.inhrelid
    JOIN pg_inherits i ON i.inhparent = level.oid
    JOIN pg_class part ON part.oid = i.inhrelid
    WHERE top.inhparent IN ('runs.events'::regclass, 'runs.chunks'::regclass)
      -- one hashed set, not a search per partition: a load at 1,000 runs calls this
      AND (part.relname::text, level.relname::text) NOT IN (
        SELECT w.part, w.level FROM audit_event_partition(except_run) w)
  LOOP
    EXECUTE format('ALTER TABLE runs.%I DETACH PARTITION runs.%I', p.level, p.part);
  END LOOP;
  FOR p IN
    SELECT w.* FROM audit_event_partition(except_run) w
    WHERE to_regclass(format('runs.%I', w.part)) IS NOT NULL
      AND NOT EXISTS (SELECT FROM pg_inherits i
                      WHERE i.inhrelid = format('runs.%I', w.part)::regclass)
  LOOP
    IF to_regclass(format('runs.%I', p.level)) IS NULL THEN
      -- made apart and attached: attaching an empty table waits for no reader
      EXECUTE format('CREATE TABLE runs.%I (LIKE runs.%I) PARTITION BY LIST (source)',
                     p.level, p.kind);
      EXECUTE format('ALTER TABLE runs.%I ATTACH PARTITION runs.%I FOR VALUES IN (%L)',
                     p.kind, p.level, p.release);
    END IF;
    EXECUTE format('ALTER TABLE runs.%I ADD COLUMN IF NOT EXISTS run bigint DEFAULT %s,'
                   ' ADD COLUMN IF NOT EXISTS release text DEFAULT %L,'
                   ' ADD COLUMN IF NOT EXISTS release_date text DEFAULT %L,'
                   ' ADD COLUMN IF NOT EXISTS source text DEFAULT %L,'
                   ' ADD COLUMN IF NOT EXISTS ingested_at timestamp DEFAULT %L',
                   p.part, p.run, p.release, p.release_date, p.source, p.ingested_at);
    EXECUTE format('ALTER TABLE runs.%I ATTACH PARTITION runs.%I FOR VALUES IN (%L)',
                   p.level, p.part, p.source);
  END LOOP;
  -- a release's part goes with its last run; not while a run's tables are swapped
  -- (except_run), which would drop and make it again
  IF except_run IS NULL THEN
    FOR p IN
      SELECT level.relname AS level
      FROM pg_inherits top
      JOIN pg_class level ON level.oid = top.inhrelid
      WHERE top.inhparent IN ('runs.events'::regclass, 'runs.chunks'::regclass)
        AND level.relname::text = ANY (doomed)
        AND NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhparent = level.oid)
    LOOP
      EXECUTE format('DROP TABLE runs.%I', p.level);
    END LOOP;
  END IF;
END
$$;
COMMENT ON FUNCTION audit_event_rebuild(bigint) IS
  'Bring the partitions of runs.events and runs.chunks (what audit_event reads) in line with audit_run: each hot or compact run''s table attached (but run except_run''s), no other; a release''s part dropped with its last run';

CREATE OR REPLACE VIEW public.audit_event AS
SELECT e.release, e.release_date, e.audit_id, e.endpoint, e.useragent, e.test, e.test_hit,
       e.conf_test_hit, e.data, e.source, (e.run << 40) + e.n AS id, e.ingested_at, e.error
FROM runs.events e
UNION ALL
-- the join of data goes when a query reads none (its side is unique per event), so
-- only queries of data decompress it
SELECT c.release, c.release_date, (e.v).audit_id, (e.v).endpoint, (e.v).useragent,
       (e.v).test, (e.v).test_hit, (e.v).conf_test_hit, d.data, c.source,
       (c.run << 40) + e.n AS id, c.ingested_at, (e.v).error
FROM runs.chunks c
CROSS JOIN LATERAL (SELECT generate_series(c.first, c.first + c.events - 1) AS n,
                           unnest(c.ev) AS v) e
LEFT JOIN LATERAL (SELECT DISTINCT ON (x.n) x.n, x.data
                   FROM (SELECT generate_series(c.first, c.first + c.events - 1) AS n,
                                unnest(c.data) AS data) x) d ON d.n = e.n;
COMMENT ON VIEW audit_event IS
  'One row per audit event of a CI run, mapped to its endpoint: the hot runs'' events (runs.events) and the compact runs'' chunks (runs.chunks), partitioned by release and source';

SELECT audit_event_rebuild();
