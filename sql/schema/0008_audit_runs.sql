-- Audit events at scale (revision 0008): one partition per CI run, compact, swapped
-- atomically. audit_event becomes a view with the same columns over:
--   audit_run    one row per run: what used to repeat on each of its events (source,
--                release, release_date, ingested_at);
--   audit_chunk  per run, its events in order, 1000 to a row, as parallel arrays:
--                a chunk row is far above the TOAST threshold, so its arrays are
--                compressed (lz4) as a whole and repeated text inside a run's events
--                (field names, user agents, URIs, timestamps) is stored once per window.
--                Events are kept as JSON text, cast to jsonb when read: the loader has
--                validated them, and the cast costs only the queries that read data.
--                Every per-event value is in the chunk (user agents too, compressed
--                away as they repeat): the view joins nothing per event, so no plan
--                can multiply the unnesting.
-- audit_chunk is partitioned by run; a load writes a run's rows into a fresh table
-- created in its transaction (COPY FREEZE: no later vacuum rewrites it), with the
-- partition constraint declared, then drops the run's old table and attaches the
-- new one (no validation scan): no dead rows, no half run visible.
-- The run id is also the distribution column of the Citus plan (docs/scale.md): every
-- primary key below starts with it.

-- The old table keeps its rows until they have moved (end of file).
ALTER TABLE audit_event RENAME TO audit_event_0006;

CREATE SCHEMA runs;
COMMENT ON SCHEMA runs IS 'The partitions of audit_chunk, one table per loaded run (events_<run>)';

CREATE TABLE audit_run (
  run bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source text NOT NULL UNIQUE,
  release text NOT NULL,
  release_date text,
  events bigint NOT NULL,
  loaded_at timestamp NOT NULL DEFAULT localtimestamp
);
COMMENT ON TABLE audit_run IS 'One row per loaded CI run: what its events share (snoopdb runs lists them)';
COMMENT ON COLUMN audit_run.run IS 'Run id: the partition key of audit_chunk';
COMMENT ON COLUMN audit_run.source IS 'Where the run''s logs are (prow URL, or the local files): audit_event.source';
COMMENT ON COLUMN audit_run.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN audit_run.release_date IS 'Release date of that release';
COMMENT ON COLUMN audit_run.events IS 'Number of events of the run';
COMMENT ON COLUMN audit_run.loaded_at IS 'When the run was (last) loaded: audit_event.ingested_at';

CREATE TABLE audit_chunk (
  run bigint NOT NULL,
  first bigint NOT NULL,
  audit_id text[] NOT NULL,
  endpoint text[] NOT NULL,
  error text[] NOT NULL,
  useragent text[] NOT NULL,
  test text[] NOT NULL,
  test_hit boolean[] NOT NULL,
  conf_test_hit boolean[] NOT NULL,
  data text[] NOT NULL,
  PRIMARY KEY (run, first)
) PARTITION BY LIST (run);
COMMENT ON TABLE audit_chunk IS
  'A run''s audit events in order, a chunk per row as parallel arrays (read them through audit_event)';
COMMENT ON COLUMN audit_chunk.run IS 'audit_run.run';
COMMENT ON COLUMN audit_chunk.first IS 'Position in the run of the chunk''s first event, from 0';
COMMENT ON COLUMN audit_chunk.audit_id IS 'auditID of each event';
COMMENT ON COLUMN audit_chunk.endpoint IS 'operationId of each event (null: none, see error)';
COMMENT ON COLUMN audit_chunk.error IS 'Why each event has no endpoint';
COMMENT ON COLUMN audit_chunk.useragent IS 'userAgent of each event';
COMMENT ON COLUMN audit_chunk.test IS 'Test credited with each event (audit_event.test)';
COMMENT ON COLUMN audit_chunk.test_hit IS 'audit_event.test_hit of each event';
COMMENT ON COLUMN audit_chunk.conf_test_hit IS 'audit_event.conf_test_hit of each event';
COMMENT ON COLUMN audit_chunk.data IS 'Each whole audit event, as JSON text (audit_event.data is it as jsonb)';

-- ids: the run in the high bits, the event's position in the run below, so ids are
-- unique, stable across reloads of the same logs and in log order within a run.
CREATE VIEW audit_event AS
SELECT r.release,
       r.release_date,
       e.audit_id,
       e.endpoint,
       e.useragent,
       e.test,
       e.test_hit,
       e.conf_test_hit,
       e.data::jsonb AS data,
       r.source,
       (c.run << 40) + c.first + e.n - 1 AS id,
       r.loaded_at AS ingested_at,
       e.error
FROM audit_chunk c
JOIN audit_run r ON r.run = c.run
CROSS JOIN LATERAL unnest(c.audit_id, c.endpoint, c.error, c.useragent, c.test, c.test_hit,
                          c.conf_test_hit, c.data)
  WITH ORDINALITY AS e(audit_id, endpoint, error, useragent, test, test_hit, conf_test_hit,
                       data, n);
COMMENT ON VIEW audit_event IS 'One row per audit event of a CI run, mapped to its endpoint';
COMMENT ON COLUMN audit_event.release IS 'Release the run counts towards, X.Y.Z (capped at the newest known release)';
COMMENT ON COLUMN audit_event.release_date IS 'Release date of that release';
COMMENT ON COLUMN audit_event.audit_id IS 'auditID of the event';
COMMENT ON COLUMN audit_event.endpoint IS 'operationId the request maps to; null when none does (see error)';
COMMENT ON COLUMN audit_event.useragent IS 'userAgent of the request';
COMMENT ON COLUMN audit_event.test IS 'For e2e.test user agents the test name after the first " -- " ('''' if none); null otherwise';
COMMENT ON COLUMN audit_event.test_hit IS 'User agent starts with e2e.test';
COMMENT ON COLUMN audit_event.conf_test_hit IS 'User agent contains [Conformance]';
COMMENT ON COLUMN audit_event.data IS 'The whole audit event';
COMMENT ON COLUMN audit_event.source IS 'Where the run''s logs are (prow URL, or the local files)';
COMMENT ON COLUMN audit_event.id IS 'Generated row id';
COMMENT ON COLUMN audit_event.ingested_at IS 'When the row was loaded';
COMMENT ON COLUMN audit_event.error IS 'Why the event has no endpoint; null when it has one';

-- Loads (and drops) of one run are serialised on a lock keyed by its source, held to
-- the end of the transaction: a second load waits, then replaces the first's rows.
CREATE FUNCTION audit_run_lock(run_source text) RETURNS void
LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtextextended('snoopdb audit run ' || run_source, 0))
$$;
COMMENT ON FUNCTION audit_run_lock(text) IS
  'Wait until no other transaction loads or drops run source, and keep others waiting until this one ends';

-- A load of run `source` starts here: waits for any other load of the same run
-- (loads of one run are serialised, never interleaved), registers the run on its
-- first load, and creates the run's fresh tables in the caller's transaction.
-- Returns the run id; the caller COPYs into runs.events_<run>_new, then calls
-- audit_run_publish.
CREATE FUNCTION audit_run_prepare(run_source text, run_release text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  id bigint;
BEGIN
  PERFORM audit_run_lock(run_source);
  -- lz4 compresses the chunks smaller and several times faster than pglz; servers
  -- built without it (the embedded one) keep pglz. Local to the load's transaction.
  BEGIN
    PERFORM set_config('default_toast_compression', 'lz4', true);
  EXCEPTION WHEN invalid_parameter_value THEN
    NULL;
  END;
  SELECT run INTO id FROM audit_run WHERE source = run_source;
  IF id IS NULL THEN
    INSERT INTO audit_run (source, release, events) VALUES (run_source, run_release, 0)
    RETURNING run INTO id;
  END IF;
  -- Spelled out rather than LIKE audit_chunk: LIKE would lock the parent until
  -- commit, and two loads of different runs would deadlock at their swaps.
  EXECUTE format('CREATE TABLE runs.%I (run bigint NOT NULL CHECK (run = %s),'
                 ' first bigint NOT NULL, audit_id text[] NOT NULL,'
                 ' endpoint text[] NOT NULL, error text[] NOT NULL,'
                 ' useragent text[] NOT NULL, test text[] NOT NULL,'
                 ' test_hit boolean[] NOT NULL,'
                 ' conf_test_hit boolean[] NOT NULL,'
                 ' data text[] NOT NULL)', 'events_' || id || '_new', id);
  RETURN id;
END
$$;
COMMENT ON FUNCTION audit_run_prepare(text, text) IS
  'Start a load of a run: lock it against other loads of the same source, create its fresh table; returns the run id';

-- The swap: drops the run's old table (if any), keys the fresh one, attaches it
-- (its CHECK constraint spares the validation scan) and records the run.
CREATE FUNCTION audit_run_publish(id bigint, run_release text, run_release_date text,
                                  run_events bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM audit_run_detach(id);
  EXECUTE format('ALTER TABLE runs.%I RENAME TO %I', 'events_' || id || '_new', 'events_' || id);
  EXECUTE format('ALTER TABLE runs.%I ADD CONSTRAINT %I PRIMARY KEY (run, first)',
                 'events_' || id, 'events_' || id || '_pkey');
  EXECUTE format('ALTER TABLE audit_chunk ATTACH PARTITION runs.%I FOR VALUES IN (%s)',
                 'events_' || id, id);
  UPDATE audit_run
  SET release = run_release, release_date = run_release_date, events = run_events,
      loaded_at = localtimestamp
  WHERE run = id;
END
$$;
COMMENT ON FUNCTION audit_run_publish(bigint, text, text, bigint) IS
  'End a load of a run: swap its fresh table in for the old one and record its release and size';

CREATE FUNCTION audit_run_detach(id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS runs.%I', 'events_' || id);
END
$$;
COMMENT ON FUNCTION audit_run_detach(bigint) IS 'Drop the table (partition) of a run''s events';

-- A load's hit counts (COPYed into the temporary table run_hit) replace its run's
-- rows of endpoint_hit by difference: rows whose counts are unchanged stay as they
-- are, so reloading the same logs leaves no dead rows in the summary either.
-- A null test only goes with test_hit false, '' only with true: coalesce keeps the
-- keys distinct and the joins hashable.
CREATE FUNCTION endpoint_hit_merge(run_source text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM endpoint_hit h
  WHERE h.source = run_source
    AND NOT EXISTS (SELECT FROM run_hit n
                    WHERE n.release = h.release AND n.endpoint = h.endpoint
                      AND coalesce(n.test, '') = coalesce(h.test, '')
                      AND n.test_hit = h.test_hit AND n.conf_test_hit = h.conf_test_hit);
  UPDATE endpoint_hit h SET hits = n.hits
  FROM run_hit n
  WHERE h.source = run_source AND n.release = h.release AND n.endpoint = h.endpoint
    AND coalesce(n.test, '') = coalesce(h.test, '') AND n.test_hit = h.test_hit
    AND n.conf_test_hit = h.conf_test_hit AND h.hits <> n.hits;
  INSERT INTO endpoint_hit (release, source, endpoint, test, test_hit, conf_test_hit, hits)
  SELECT n.release, run_source, n.endpoint, n.test, n.test_hit, n.conf_test_hit, n.hits
  FROM run_hit n
  WHERE NOT EXISTS (SELECT FROM endpoint_hit h
                    WHERE h.source = run_source AND n.release = h.release
                      AND n.endpoint = h.endpoint AND coalesce(n.test, '') = coalesce(h.test, '')
                      AND n.test_hit = h.test_hit AND n.conf_test_hit = h.conf_test_hit);
END
$$;
COMMENT ON FUNCTION endpoint_hit_merge(text) IS
  'Make the endpoint_hit rows of run source those of the temporary table run_hit, changing only the rows that differ';

-- `snoopdb runs drop` and `prune`: a run's table, its row and its hit counts go (the
-- caller refreshes the coverage summaries once after its drops, in the same
-- transaction). Returns the number of events dropped; null when no such run.
CREATE FUNCTION audit_run_drop(run_source text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  dropped audit_run;
BEGIN
  PERFORM audit_run_lock(run_source);
  DELETE FROM audit_run WHERE source = run_source RETURNING * INTO dropped;
  IF dropped.run IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM audit_run_detach(dropped.run);
  DELETE FROM endpoint_hit WHERE source = run_source;
  RETURN dropped.events;
END
$$;
COMMENT ON FUNCTION audit_run_drop(text) IS
  'Drop run source: its events, its row in audit_run and its endpoint_hit rows; returns its number of events (null: no such run)';

-- Rows in revision 0001's audit_event layout (a table with its columns: the old
-- table, or rows restored from an older dump) stored as runs, one per source, each
-- replacing any loaded run of that source: events in the order of their ids, 1000 to
-- a chunk as the loader writes them (loaders/audit_store.py CHUNK_EVENTS). Does not
-- touch endpoint_hit. Returns the number of runs stored.
CREATE FUNCTION audit_run_import(rows regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  run_id bigint;
  stored bigint := 0;
BEGIN
  FOR r IN EXECUTE format(
      'SELECT source, min(release) AS release, min(release_date) AS release_date,'
      ' count(*) AS events, min(ingested_at) AS loaded_at'
      ' FROM %s GROUP BY source ORDER BY min(id)', rows) LOOP
    run_id := audit_run_prepare(r.source, r.release);
    EXECUTE format($q$
      INSERT INTO runs.%1$I
      SELECT %2$s, (n / 1000) * 1000, array_agg(audit_id ORDER BY n),
             array_agg(endpoint ORDER BY n), array_agg(error ORDER BY n),
             array_agg(useragent ORDER BY n), array_agg(test ORDER BY n),
             array_agg(test_hit ORDER BY n), array_agg(conf_test_hit ORDER BY n),
             array_agg(data::text ORDER BY n)
      FROM (SELECT row_number() OVER (ORDER BY id) - 1 AS n, * FROM %3$s
            WHERE source = %4$L) x
      GROUP BY n / 1000$q$,
      'events_' || run_id || '_new', run_id, rows, r.source);
    PERFORM audit_run_publish(run_id, r.release, r.release_date, r.events);
    UPDATE audit_run SET loaded_at = r.loaded_at WHERE run = run_id;
    stored := stored + 1;
  END LOOP;
  RETURN stored;
END
$$;
COMMENT ON FUNCTION audit_run_import(regclass) IS
  'Store rows in the old audit_event table layout as runs, one per source (replacing loaded ones); endpoint_hit is left as it is';

-- The existing runs move over.
SELECT audit_run_import('audit_event_0006');
DROP TABLE audit_event_0006;
