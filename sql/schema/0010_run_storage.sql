-- Run storage in two states (revision 0010): where people query audit_event first,
-- the disk second.
--
-- A CI run is *hot* — one row per event in runs.events_<run>, data jsonb, indexed on
-- the questions people ask (endpoint, test, auditID) — or *compact* — its events in
-- runs.chunks_<run>, 1,000 to a row: the small columns as one array of a composite
-- (one decompression, one unnest for every small column), data as a jsonb array
-- apart from them. audit_event is a view with one UNION ALL branch per run, written
-- by audit_event_rebuild() whenever a run comes, goes or changes state: each branch
-- carries its run's values (release, source, …) as constants, so a query restricted
-- to a run, a release or a load time is pruned at planning to those runs' tables, and
-- a compact branch joins its data array through a join PostgreSQL removes when the
-- query reads no data (the join's side is provably unique per event), so only
-- queries of data decompress it.
--
-- The per-run summaries follow the run: run_test (the run's test names, numbered),
-- run_hit, run_field_hit and run_body_hit are partitioned by run id, each partition
-- written fresh in the load's transaction and swapped in; a reload or a drop
-- deletes no row. endpoint_hit, endpoint_field_hit and endpoint_body_hit are views
-- with their old columns. apisnoop's published coverage of a release (imported) is
-- a run in state 'imported': its hits and tests, no events.
--
-- The per-release summaries (release_endpoint_hit, release_test_hit,
-- release_field_hit, release_body_hit) become tables partitioned by release, in
-- schema summaries: a load rewrites only its release's partitions
-- (refresh_release_coverage).
--
-- Every function that changes which tables make up a run, or a release's summaries,
-- first takes coverage_lock(): publishes, drops, compactions and refreshes are
-- serialised, and always lock in the same order.

-- What revision 0008's functions did, those below do (audit_run_lock stays).
DROP FUNCTION audit_run_publish(bigint, text, text, bigint), audit_run_prepare(text, text),
  audit_run_detach(bigint), audit_run_drop(text), audit_run_import(regclass),
  endpoint_hit_merge(text);

CREATE SCHEMA summaries;
COMMENT ON SCHEMA summaries IS 'The partitions of the per-release coverage summaries, one table per release';
COMMENT ON SCHEMA runs IS
  'One set of tables per loaded run: its events (events_<run> hot, chunks_<run> compact) and its summary partitions';

-- A run's job: its source up to the last "/" of its first log (prow: .../logs/<job>;
-- local files: their folder). Runs of one job are the ones --keep-hot counts.
CREATE FUNCTION audit_run_job(run_source text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT regexp_replace(split_part(run_source, ',', 1), '/[^/]*$', '')
$$;
COMMENT ON FUNCTION audit_run_job(text) IS
  'The job of a run: its source up to the last "/" of its first log (prow URL: .../logs/<job>; local files: their folder)';

-- Runs of a job are ordered by build number where the source ends in one (prow), else
-- by load time: the newest are the ones kept hot.
CREATE FUNCTION audit_run_build(run_source text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN b ~ '^[0-9]{1,40}$' THEN b::numeric END
  FROM regexp_replace(split_part(run_source, ',', 1), '^.*/', '') AS b
$$;
COMMENT ON FUNCTION audit_run_build(text) IS
  'The build number a run''s source ends in (prow: .../<job>/<build>), null if none: runs of a job are ordered by it, then by load time';

-- How many runs of each job loads keep hot: the database's setting snoopdb.keep_hot
-- (`snoopdb runs keep-hot N` sets it: ALTER DATABASE … SET), read from the catalog so
-- that a session started before it was set sees it too; 1 when not set.
CREATE FUNCTION keep_hot_setting() RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT substr(c, length('snoopdb.keep_hot=') + 1)::integer
                   FROM pg_db_role_setting s
                   CROSS JOIN LATERAL unnest(s.setconfig) AS c
                   WHERE s.setrole = 0
                     AND s.setdatabase = (SELECT oid FROM pg_database
                                          WHERE datname = current_database())
                     AND c LIKE 'snoopdb.keep\_hot=%'), 1)
$$;
COMMENT ON FUNCTION keep_hot_setting() IS
  'Runs of each job that loads keep hot: the database''s setting snoopdb.keep_hot, else 1';

ALTER TABLE audit_run ADD COLUMN job text;
ALTER TABLE audit_run ADD COLUMN state text NOT NULL DEFAULT 'hot'
  CONSTRAINT audit_run_state CHECK (state IN ('hot', 'compact', 'imported', 'loading'));
UPDATE audit_run SET job = audit_run_job(source);
ALTER TABLE audit_run ALTER COLUMN job SET NOT NULL;
CREATE INDEX audit_run_job_index ON audit_run (job);
CREATE INDEX audit_run_release_index ON audit_run (release);
COMMENT ON TABLE audit_run IS
  'One row per loaded CI run or imported coverage file: what its events share (snoopdb runs lists them)';
COMMENT ON COLUMN audit_run.run IS 'Run id: the key of its tables (runs.events_<run>, runs.chunks_<run>) and of the summary partitions';
COMMENT ON COLUMN audit_run.events IS 'Number of events of the run (0 for imported coverage)';
COMMENT ON COLUMN audit_run.job IS 'The job the run belongs to (audit_run_job(source)): the newest runs of a job stay hot';
COMMENT ON COLUMN audit_run.state IS
  'hot: one row per event, indexed (runs.events_<run>); compact: chunks of 1,000 events (runs.chunks_<run>); imported: published coverage, hits only; loading: first loaded by a transaction not yet committed';

-- The small columns of one event, as a compact chunk holds them.
CREATE TYPE audit_event_values AS (
  audit_id text,
  endpoint text,
  error text,
  useragent text,
  test text,
  test_hit boolean,
  conf_test_hit boolean
);
COMMENT ON TYPE audit_event_values IS 'The columns of audit_event other than data and the run''s, as compact chunks store them';

CREATE TABLE run_test (
  run bigint NOT NULL,
  test integer NOT NULL,
  name text NOT NULL
) PARTITION BY LIST (run);
COMMENT ON TABLE run_test IS 'The tests named in each run''s user agents, numbered within the run (one partition per run)';
COMMENT ON COLUMN run_test.run IS 'audit_run.run';
COMMENT ON COLUMN run_test.test IS 'Number of the test within the run';
COMMENT ON COLUMN run_test.name IS 'Test name as in audit_event.test ('''' for an e2e.test user agent without one)';

CREATE TABLE run_hit (
  run bigint NOT NULL,
  endpoint text NOT NULL,
  test integer,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL
) PARTITION BY LIST (run);
COMMENT ON TABLE run_hit IS
  'Hit counts per (run, endpoint, test, user-agent class), one partition per run: what endpoint_hit shows';
COMMENT ON COLUMN run_hit.run IS 'audit_run.run';
COMMENT ON COLUMN run_hit.endpoint IS 'The operationId hit';
COMMENT ON COLUMN run_hit.test IS 'run_test.test of the test; null for non-test user agents';
COMMENT ON COLUMN run_hit.test_hit IS 'Hits came from an e2e.test user agent';
COMMENT ON COLUMN run_hit.conf_test_hit IS 'Hits came from a [Conformance] user agent';
COMMENT ON COLUMN run_hit.hits IS 'Number of audit events';

CREATE TABLE run_field_hit (
  run bigint NOT NULL,
  endpoint text NOT NULL,
  field text NOT NULL,
  known boolean NOT NULL,
  test integer,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL
) PARTITION BY LIST (run);
COMMENT ON TABLE run_field_hit IS
  'Request bodies that set a field, per (run, endpoint, field, test, user-agent class), one partition per run: what endpoint_field_hit shows';
COMMENT ON COLUMN run_field_hit.run IS 'audit_run.run';
COMMENT ON COLUMN run_field_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN run_field_hit.field IS 'Field path (body_field.field), or the path of a field the schema does not have';
COMMENT ON COLUMN run_field_hit.known IS 'The field is in the endpoint''s body schema of the run''s release';
COMMENT ON COLUMN run_field_hit.test IS 'run_test.test of the test; null for non-test user agents';
COMMENT ON COLUMN run_field_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN run_field_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN run_field_hit.hits IS 'Number of request bodies that set the field';

CREATE TABLE run_body_hit (
  run bigint NOT NULL,
  endpoint text NOT NULL,
  test integer,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  bodies bigint NOT NULL
) PARTITION BY LIST (run);
COMMENT ON TABLE run_body_hit IS
  'Audit events that carried a request body, per (run, endpoint, test, user-agent class), one partition per run: what endpoint_body_hit shows';
COMMENT ON COLUMN run_body_hit.run IS 'audit_run.run';
COMMENT ON COLUMN run_body_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN run_body_hit.test IS 'run_test.test of the test; null for non-test user agents';
COMMENT ON COLUMN run_body_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN run_body_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN run_body_hit.bodies IS 'Number of events with a request body';

-- Taken (to the end of the transaction) by everything that changes which tables make
-- up a run or a release's summaries, before it touches any of them.
CREATE FUNCTION coverage_lock() RETURNS void
LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtextextended('snoopdb coverage tables', 0))
$$;
COMMENT ON FUNCTION coverage_lock() IS
  'Wait until no other transaction swaps run or summary tables, and keep others waiting until this one ends';

-- One run's table of `kind`, named runs.<name>, columns spelled out (LIKE would lock a
-- parent until commit); summary kinds carry the CHECK that lets them attach to their
-- parent without a validation scan.
CREATE FUNCTION audit_run_create_table(id bigint, kind text, name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE runs.%I (%s)', name, CASE kind
    WHEN 'events' THEN
      'n bigint NOT NULL, audit_id text, endpoint text, error text, useragent text,'
      ' test text, test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL,'
      ' data jsonb NOT NULL'
    WHEN 'chunks' THEN
      'first bigint NOT NULL, events integer NOT NULL,'
      ' ev audit_event_values[] NOT NULL, data jsonb[] NOT NULL'
    WHEN 'test' THEN
      format('run bigint NOT NULL CHECK (run = %s), test integer NOT NULL, name text NOT NULL', id)
    WHEN 'hit' THEN
      format('run bigint NOT NULL CHECK (run = %s), endpoint text NOT NULL, test integer,'
             ' test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL,'
             ' hits bigint NOT NULL', id)
    WHEN 'field_hit' THEN
      format('run bigint NOT NULL CHECK (run = %s), endpoint text NOT NULL,'
             ' field text NOT NULL, known boolean NOT NULL, test integer,'
             ' test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL,'
             ' hits bigint NOT NULL', id)
    WHEN 'body_hit' THEN
      format('run bigint NOT NULL CHECK (run = %s), endpoint text NOT NULL, test integer,'
             ' test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL,'
             ' bodies bigint NOT NULL', id)
    END);
END
$$;
COMMENT ON FUNCTION audit_run_create_table(bigint, text, text) IS
  'Create runs.<name>, a table of run id of kind events, chunks, test, hit, field_hit or body_hit';

-- lz4 compresses chunks and large events smaller and several times faster than pglz;
-- servers built without it (the embedded one) keep pglz. Local to the transaction.
CREATE FUNCTION audit_run_compression() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('default_toast_compression', 'lz4', true);
EXCEPTION WHEN invalid_parameter_value THEN
  NULL;
END
$$;
COMMENT ON FUNCTION audit_run_compression() IS
  'Compress what this transaction stores with lz4 where the server has it (pglz otherwise)';

-- audit_event: one branch per hot or compact run (ids: the run in the high bits, the
-- event's position in the run below). except_run leaves a run out while its tables
-- are being swapped.
CREATE FUNCTION audit_event_rebuild(except_run bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  body text;
BEGIN
  SELECT string_agg(CASE r.state
    WHEN 'hot' THEN format(
      'SELECT %L::text AS release, %L::text AS release_date, e.audit_id, e.endpoint,'
      ' e.useragent, e.test, e.test_hit, e.conf_test_hit, e.data, %L::text AS source,'
      ' (%s::bigint << 40) + e.n AS id, %L::timestamp AS ingested_at, e.error'
      ' FROM runs.%I e',
      r.release, r.release_date, r.source, r.run, r.loaded_at, 'events_' || r.run)
    ELSE format(
      'SELECT %L::text AS release, %L::text AS release_date, (e.v).audit_id,'
      ' (e.v).endpoint, (e.v).useragent, (e.v).test, (e.v).test_hit, (e.v).conf_test_hit,'
      ' d.data, %L::text AS source, (%s::bigint << 40) + e.n AS id,'
      ' %L::timestamp AS ingested_at, (e.v).error'
      ' FROM runs.%I c'
      ' CROSS JOIN LATERAL (SELECT generate_series(c.first, c.first + c.events - 1) AS n,'
      '                            unnest(c.ev) AS v) e'
      ' LEFT JOIN LATERAL (SELECT DISTINCT ON (x.n) x.n, x.data'
      '                    FROM (SELECT generate_series(c.first, c.first + c.events - 1) AS n,'
      '                                 unnest(c.data) AS data) x) d ON d.n = e.n',
      r.release, r.release_date, r.source, r.run, r.loaded_at, 'chunks_' || r.run)
    END, E'\nUNION ALL\n' ORDER BY r.run)
  INTO body
  FROM audit_run r
  WHERE r.state IN ('hot', 'compact') AND r.run IS DISTINCT FROM except_run;
  EXECUTE 'CREATE OR REPLACE VIEW public.audit_event AS ' || coalesce(body,
    'SELECT NULL::text AS release, NULL::text AS release_date, NULL::text AS audit_id,'
    ' NULL::text AS endpoint, NULL::text AS useragent, NULL::text AS test,'
    ' NULL::boolean AS test_hit, NULL::boolean AS conf_test_hit, NULL::jsonb AS data,'
    ' NULL::text AS source, NULL::bigint AS id, NULL::timestamp AS ingested_at,'
    ' NULL::text AS error WHERE false');
END
$$;
COMMENT ON FUNCTION audit_event_rebuild(bigint) IS
  'Write the audit_event view: one branch per hot or compact run (leaving out run except_run)';

-- Indexes of a hot run's table, named after the table they serve.
CREATE FUNCTION audit_run_index(id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t text := 'events_' || id;
BEGIN
  PERFORM set_config('maintenance_work_mem', '256MB', true);
  EXECUTE format('ALTER TABLE runs.%I ADD CONSTRAINT %I PRIMARY KEY (n)', t, t || '_pkey');
  EXECUTE format('CREATE INDEX %I ON runs.%I (endpoint)', t || '_endpoint', t);
  EXECUTE format('CREATE INDEX %I ON runs.%I (test)', t || '_test', t);
  -- hash: an auditID is only ever looked up by equality, and any length fits
  EXECUTE format('CREATE INDEX %I ON runs.%I USING hash (audit_id)', t || '_audit_id', t);
  EXECUTE format('ANALYZE runs.%I', t);
END
$$;
COMMENT ON FUNCTION audit_run_index(bigint) IS
  'Index a hot run''s events (runs.events_<run>): by position, endpoint, test and auditID';

-- Put run id's events table fresh_table (runs.events_<id>_new or runs.chunks_<id>_new)
-- in place of its current one, in state new_state. The caller holds coverage_lock().
CREATE FUNCTION audit_run_swap_events(id bigint, fresh_table text, new_state text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  final text := CASE new_state WHEN 'hot' THEN 'events_' ELSE 'chunks_' END || id;
BEGIN
  PERFORM audit_event_rebuild(id);
  EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || id, 'chunks_' || id);
  EXECUTE format('ALTER TABLE runs.%I RENAME TO %I', fresh_table, final);
  IF new_state = 'hot' THEN
    PERFORM audit_run_index(id);
  ELSE
    EXECUTE format('ALTER TABLE runs.%I ADD CONSTRAINT %I PRIMARY KEY (first)',
                   final, final || '_pkey');
  END IF;
  UPDATE audit_run SET state = new_state WHERE run = id AND state IS DISTINCT FROM new_state;
  PERFORM audit_event_rebuild();
END
$$;
COMMENT ON FUNCTION audit_run_swap_events(bigint, text, text) IS
  'Replace the events table of run id by runs.<fresh_table> (new_state hot or compact); caller holds coverage_lock()';

-- A load of run `source` starts here: waits for any other load of the same run,
-- registers the run on its first load, and creates its fresh tables in the caller's
-- transaction: runs.events_<run>_new (hot loads) and runs.<summary>_<run>_new for
-- test, hit, field_hit and body_hit. The caller COPYs into them, then calls
-- audit_run_publish. Returns the run id.
CREATE FUNCTION audit_run_prepare(run_source text, run_release text, run_state text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  id bigint;
  kind text;
BEGIN
  PERFORM audit_run_lock(run_source);
  PERFORM audit_run_compression();
  SELECT run INTO id FROM audit_run WHERE source = run_source;
  IF id IS NULL THEN
    -- no branch of audit_event until published
    INSERT INTO audit_run (source, release, events, job, state)
    VALUES (run_source, run_release, 0, audit_run_job(run_source), 'loading')
    RETURNING run INTO id;
  END IF;
  IF run_state = 'hot' THEN
    PERFORM audit_run_create_table(id, 'events', 'events_' || id || '_new');
  END IF;
  FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit'] LOOP
    PERFORM audit_run_create_table(id, kind, kind || '_' || id || '_new');
  END LOOP;
  RETURN id;
END
$$;
COMMENT ON FUNCTION audit_run_prepare(text, text, text) IS
  'Start a load of run source (state hot, or imported: no events): lock it against other loads of it, create its fresh tables; returns the run id';

-- The end of a load: swaps the fresh tables in for the run's old ones and records the
-- run. Returns the release the run counted towards before (null on its first load),
-- whose summaries then need refreshing too.
CREATE FUNCTION audit_run_publish(id bigint, run_release text, run_release_date text,
                                  run_events bigint, run_state text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  previous text;
  kind text;
BEGIN
  PERFORM coverage_lock();
  -- published before: its summary partitions exist
  IF to_regclass(format('runs.%I', 'hit_' || id)) IS NOT NULL THEN
    SELECT release INTO previous FROM audit_run WHERE run = id;
  END IF;
  FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit'] LOOP
    EXECUTE format('DROP TABLE IF EXISTS runs.%I', kind || '_' || id);
    EXECUTE format('ALTER TABLE runs.%I RENAME TO %I', kind || '_' || id || '_new', kind || '_' || id);
    EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION runs.%I FOR VALUES IN (%s)',
                   'run_' || kind, kind || '_' || id, id);
  END LOOP;
  UPDATE audit_run
  SET release = run_release, release_date = run_release_date, events = run_events,
      loaded_at = localtimestamp
  WHERE run = id;
  IF run_state = 'hot' THEN
    PERFORM audit_run_swap_events(id, 'events_' || id || '_new', 'hot');
  ELSE
    EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || id, 'chunks_' || id);
    UPDATE audit_run SET state = run_state WHERE run = id AND state <> run_state;
    PERFORM audit_event_rebuild();
  END IF;
  RETURN previous;
END
$$;
COMMENT ON FUNCTION audit_run_publish(bigint, text, text, bigint, text) IS
  'End a load of run id: swap its fresh tables in, record its release and size; returns the release it had before';

-- `snoopdb runs drop` and `prune`, and a CI run replacing imported coverage: every
-- table of the run and its row go. Returns the run's row (null fields: no such run);
-- the caller refreshes its release's summaries in the same transaction.
CREATE FUNCTION audit_run_drop(run_source text) RETURNS audit_run
LANGUAGE plpgsql AS $$
DECLARE
  dropped audit_run;
  kind text;
BEGIN
  PERFORM audit_run_lock(run_source);
  PERFORM coverage_lock();
  DELETE FROM audit_run WHERE source = run_source RETURNING * INTO dropped;
  IF dropped.run IS NULL THEN
    RETURN dropped;
  END IF;
  IF dropped.state IN ('hot', 'compact') THEN
    PERFORM audit_event_rebuild();
  END IF;
  EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || dropped.run,
                 'chunks_' || dropped.run);
  FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit'] LOOP
    EXECUTE format('DROP TABLE IF EXISTS runs.%I', kind || '_' || dropped.run);
  END LOOP;
  RETURN dropped;
END
$$;
COMMENT ON FUNCTION audit_run_drop(text) IS
  'Drop run source: its events, its summary partitions and its row; returns the row (null run: no such run)';

-- A hot run's events into compact chunks of 1,000, in event order, swapped in.
CREATE FUNCTION audit_run_compact(run_source text) RETURNS audit_run
LANGUAGE plpgsql AS $$
DECLARE
  r audit_run;
  fresh text;
BEGIN
  PERFORM audit_run_lock(run_source);
  SELECT * INTO r FROM audit_run WHERE source = run_source;
  IF r.run IS NULL OR r.state <> 'hot' THEN
    RETURN r;
  END IF;
  PERFORM audit_run_compression();
  fresh := 'chunks_' || r.run || '_new';
  PERFORM audit_run_create_table(r.run, 'chunks', fresh);
  EXECUTE format($q$
    INSERT INTO runs.%I (first, events, ev, data)
    SELECT f, c.events, c.ev, c.data
    FROM generate_series(0, %s - 1, 1000) AS f
    CROSS JOIN LATERAL (
      SELECT count(*)::integer AS events,
             array_agg(ROW(e.audit_id, e.endpoint, e.error, e.useragent, e.test, e.test_hit,
                           e.conf_test_hit)::audit_event_values ORDER BY e.n) AS ev,
             array_agg(e.data ORDER BY e.n) AS data
      FROM runs.%I e
      WHERE e.n >= f AND e.n < f + 1000) AS c
    WHERE c.events > 0$q$, fresh, r.events, 'events_' || r.run);
  PERFORM coverage_lock();
  PERFORM audit_run_swap_events(r.run, fresh, 'compact');
  SELECT * INTO r FROM audit_run WHERE run = r.run;
  RETURN r;
END
$$;
COMMENT ON FUNCTION audit_run_compact(text) IS
  'Store hot run source compact (chunks of 1,000 events), swapped in atomically; returns its row';

-- A compact run's events back to one indexed row per event, swapped in.
CREATE FUNCTION audit_run_heat(run_source text) RETURNS audit_run
LANGUAGE plpgsql AS $$
DECLARE
  r audit_run;
  fresh text;
BEGIN
  PERFORM audit_run_lock(run_source);
  SELECT * INTO r FROM audit_run WHERE source = run_source;
  IF r.run IS NULL OR r.state <> 'compact' THEN
    RETURN r;
  END IF;
  PERFORM audit_run_compression();
  fresh := 'events_' || r.run || '_new';
  PERFORM audit_run_create_table(r.run, 'events', fresh);
  EXECUTE format($q$
    INSERT INTO runs.%I (n, audit_id, endpoint, error, useragent, test, test_hit,
                         conf_test_hit, data)
    SELECT e.n, (e.v).audit_id, (e.v).endpoint, (e.v).error, (e.v).useragent, (e.v).test,
           (e.v).test_hit, (e.v).conf_test_hit, e.data
    FROM runs.%I c
    CROSS JOIN LATERAL (SELECT generate_series(c.first, c.first + c.events - 1) AS n,
                               unnest(c.ev) AS v, unnest(c.data) AS data) AS e$q$,
    fresh, 'chunks_' || r.run);
  PERFORM coverage_lock();
  PERFORM audit_run_swap_events(r.run, fresh, 'hot');
  SELECT * INTO r FROM audit_run WHERE run = r.run;
  RETURN r;
END
$$;
COMMENT ON FUNCTION audit_run_heat(text) IS
  'Store compact run source hot again (one indexed row per event), swapped in atomically; returns its row';

-- The loaded rows move over. Test names are cut to 512 characters (then "…"), as the
-- loaders now store them: they go into btree indexes, which take at most ~2.7 kB.
CREATE FUNCTION pg_temp.bounded_test(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN length(name) > 512 THEN left(name, 512) || '…' ELSE name END
$$;
-- Revision 0008 kept events as JSON text: one jsonb cannot hold (a number beyond
-- numeric's range) becomes a JSON null rather than failing the upgrade.
CREATE FUNCTION pg_temp.jsonb_or_null(event text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN event::jsonb;
EXCEPTION WHEN OTHERS THEN
  RETURN 'null'::jsonb;
END
$$;

DROP VIEW audit_event;

-- Published coverage imported before (and any hit source without a run) becomes an
-- imported run: its hits, no events.
INSERT INTO audit_run (source, release, events, job, state)
SELECT h.source, min(h.release), 0, audit_run_job(h.source), 'imported'
FROM endpoint_hit h
WHERE NOT EXISTS (SELECT FROM audit_run r WHERE r.source = h.source)
GROUP BY h.source;

DO $$
DECLARE
  r audit_run;
  kind text;
  chunks text := $q$
    INSERT INTO runs.%1$I (first, events, ev, data)
    SELECT c.first, cardinality(c.audit_id),
           ARRAY(SELECT ROW(x.a, x.e, x.er, x.u, pg_temp.bounded_test(x.t), x.th,
                            x.ct)::audit_event_values
                 FROM unnest(c.audit_id, c.endpoint, c.error, c.useragent, c.test, c.test_hit,
                             c.conf_test_hit) WITH ORDINALITY AS x(a, e, er, u, t, th, ct, i)
                 ORDER BY x.i),
           ARRAY(SELECT %3$s FROM unnest(c.data) WITH ORDINALITY AS d(d, i) ORDER BY d.i)
    FROM runs.%2$I c$q$;
BEGIN
  PERFORM audit_run_compression();
  FOR r IN SELECT * FROM audit_run ORDER BY run LOOP
    PERFORM audit_run_create_table(r.run, 'test', 'test_' || r.run);
    EXECUTE format($q$
      INSERT INTO runs.%1$I
      SELECT %2$s, row_number() OVER (ORDER BY name), name
      FROM (SELECT pg_temp.bounded_test(test) AS name FROM endpoint_hit
            WHERE source = %3$L AND test IS NOT NULL
            UNION SELECT pg_temp.bounded_test(test) FROM endpoint_field_hit
            WHERE source = %3$L AND test IS NOT NULL
            UNION SELECT pg_temp.bounded_test(test) FROM endpoint_body_hit
            WHERE source = %3$L AND test IS NOT NULL) AS t$q$,
      'test_' || r.run, r.run, r.source);
    PERFORM audit_run_create_table(r.run, 'hit', 'hit_' || r.run);
    EXECUTE format($q$
      INSERT INTO runs.%1$I
      SELECT %2$s, h.endpoint, t.test, h.test_hit, h.conf_test_hit, h.hits
      FROM endpoint_hit h LEFT JOIN runs.%4$I t ON t.name = pg_temp.bounded_test(h.test)
      WHERE h.source = %3$L$q$, 'hit_' || r.run, r.run, r.source, 'test_' || r.run);
    PERFORM audit_run_create_table(r.run, 'field_hit', 'field_hit_' || r.run);
    EXECUTE format($q$
      INSERT INTO runs.%1$I
      SELECT %2$s, h.endpoint, h.field, h.known, t.test, h.test_hit, h.conf_test_hit, h.hits
      FROM endpoint_field_hit h LEFT JOIN runs.%4$I t ON t.name = pg_temp.bounded_test(h.test)
      WHERE h.source = %3$L$q$, 'field_hit_' || r.run, r.run, r.source, 'test_' || r.run);
    PERFORM audit_run_create_table(r.run, 'body_hit', 'body_hit_' || r.run);
    EXECUTE format($q$
      INSERT INTO runs.%1$I
      SELECT %2$s, h.endpoint, t.test, h.test_hit, h.conf_test_hit, h.bodies
      FROM endpoint_body_hit h LEFT JOIN runs.%4$I t ON t.name = pg_temp.bounded_test(h.test)
      WHERE h.source = %3$L$q$, 'body_hit_' || r.run, r.run, r.source, 'test_' || r.run);
    FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit'] LOOP
      EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION runs.%I FOR VALUES IN (%s)',
                     'run_' || kind, kind || '_' || r.run, r.run);
    END LOOP;
    CONTINUE WHEN r.state = 'imported';
    -- the run's events, from revision 0008's chunks (runs.events_<run>) to compact ones
    PERFORM audit_run_create_table(r.run, 'chunks', 'chunks_' || r.run);
    BEGIN
      EXECUTE format(chunks, 'chunks_' || r.run, 'events_' || r.run, 'd.d::jsonb');
    EXCEPTION WHEN OTHERS THEN
      EXECUTE format(chunks, 'chunks_' || r.run, 'events_' || r.run, 'pg_temp.jsonb_or_null(d.d)');
    END;
    EXECUTE format('ALTER TABLE runs.%I ADD CONSTRAINT %I PRIMARY KEY (first)',
                   'chunks_' || r.run, 'chunks_' || r.run || '_pkey');
    EXECUTE format('DROP TABLE runs.%I', 'events_' || r.run);
    UPDATE audit_run SET state = 'compact' WHERE run = r.run;
  END LOOP;
  -- the newest run of each job is hot (by build number, else by load time)
  FOR r IN
    SELECT DISTINCT ON (job) * FROM audit_run WHERE state = 'compact'
    ORDER BY job, audit_run_build(source) DESC NULLS LAST, loaded_at DESC, run DESC
  LOOP
    PERFORM audit_run_heat(r.source);
  END LOOP;
END
$$;

SELECT audit_event_rebuild();
COMMENT ON VIEW audit_event IS
  'One row per audit event of a CI run, mapped to its endpoint: a branch per run (hot: runs.events_<run>; compact: runs.chunks_<run>)';
COMMENT ON COLUMN audit_event.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN audit_event.release_date IS 'Release date of that release';
COMMENT ON COLUMN audit_event.audit_id IS 'auditID of the event';
COMMENT ON COLUMN audit_event.endpoint IS 'operationId the request maps to; null when none does (see error)';
COMMENT ON COLUMN audit_event.useragent IS 'userAgent of the request';
COMMENT ON COLUMN audit_event.test IS 'For e2e.test user agents the test name after the first " -- " ('''' if none; cut to 512 characters, then "…"); null otherwise';
COMMENT ON COLUMN audit_event.test_hit IS 'User agent starts with e2e.test';
COMMENT ON COLUMN audit_event.conf_test_hit IS 'User agent contains [Conformance]';
COMMENT ON COLUMN audit_event.data IS 'The whole audit event';
COMMENT ON COLUMN audit_event.source IS 'Where the run''s logs are (prow URL, or the local files)';
COMMENT ON COLUMN audit_event.id IS 'Event id: the run id in the high bits, the event''s position in the run below';
COMMENT ON COLUMN audit_event.ingested_at IS 'When the run was loaded';
COMMENT ON COLUMN audit_event.error IS 'Why the event has no endpoint; null when it has one';
-- Live events are attributed by the same rules.
COMMENT ON COLUMN testing.audit_event.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN testing.audit_event.test IS 'For e2e.test user agents the test name after the first " -- " ('''' if none; cut to 512 characters, then "…"); null otherwise';

DROP TABLE audit_chunk;
