-- Downgrade of revision 0010: back to revision 0009's storage. Every run's events go
-- back into revision 0008's chunks (data as JSON text), its summaries into the tables
-- endpoint_hit, endpoint_field_hit and endpoint_body_hit; imported runs become
-- imported endpoint_hit rows again. The migration then installs 0009's views.

DROP VIEW testing.field_hit_by_new_test, endpoint_unknown_field, field_coverage_summary,
  endpoint_field_coverage, testing.projected_change_in_coverage;
DROP VIEW testing.endpoint_hit_by_new_test, testing.untested_stable_endpoint,
  release_coverage, conformance.new_endpoint, conformance.coverage_per_release,
  conformance.progress;
DROP MATERIALIZED VIEW conformance.eligible_endpoint_coverage;
DROP VIEW audit_event_test, endpoint_coverage, release_order;
DROP FUNCTION refresh_release_coverage(text[]), release_summaries_rewrite(text),
  release_partition(text, text);
DROP MATERIALIZED VIEW endpoint_test_hit;
DROP TABLE release_body_hit, release_field_hit, release_test_hit, release_endpoint_hit;
DROP SCHEMA summaries;

-- The per-run summaries, read through their views before these go.
ALTER VIEW endpoint_hit RENAME TO endpoint_hit_0010;
ALTER VIEW endpoint_field_hit RENAME TO endpoint_field_hit_0010;
ALTER VIEW endpoint_body_hit RENAME TO endpoint_body_hit_0010;

CREATE TABLE endpoint_hit (
  release text NOT NULL,
  source text NOT NULL,
  endpoint text NOT NULL,
  test text,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL,
  imported boolean NOT NULL DEFAULT false,
  UNIQUE NULLS NOT DISTINCT (release, source, endpoint, test, test_hit, conf_test_hit)
);
CREATE INDEX endpoint_hit_release_endpoint ON endpoint_hit (release, endpoint);
CREATE INDEX endpoint_hit_source ON endpoint_hit (source);
COMMENT ON TABLE endpoint_hit IS
  'Hit counts per (release, source, endpoint, test, user-agent class): what the coverage views read';
COMMENT ON COLUMN endpoint_hit.release IS 'Release the hits count towards, X.Y.Z';
COMMENT ON COLUMN endpoint_hit.source IS 'The run (audit_event.source) or the imported coverage file';
COMMENT ON COLUMN endpoint_hit.endpoint IS 'The operationId hit';
COMMENT ON COLUMN endpoint_hit.test IS 'Test name as in audit_event.test: '''' for an unnamed e2e.test, null for non-test user agents';
COMMENT ON COLUMN endpoint_hit.test_hit IS 'Hits came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_hit.conf_test_hit IS 'Hits came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_hit.hits IS 'Number of audit events';
COMMENT ON COLUMN endpoint_hit.imported IS 'Imported from published coverage rather than counted from raw events';

CREATE TABLE endpoint_field_hit (
  release text NOT NULL,
  source text NOT NULL,
  endpoint text NOT NULL,
  field text NOT NULL,
  known boolean NOT NULL,
  test text,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL
);
-- No unique key over the eight columns (endpoint_hit has one): the loader's tally
-- makes the rows of a run unique, and at a million rows a run the index would
-- cost more than the rest of the COPY.
CREATE INDEX endpoint_field_hit_source ON endpoint_field_hit (source);
COMMENT ON TABLE endpoint_field_hit IS
  'Request bodies that set a field, per (release, run, endpoint, field, test, user-agent class): what the field views read';
COMMENT ON COLUMN endpoint_field_hit.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN endpoint_field_hit.source IS 'The run (audit_event.source)';
COMMENT ON COLUMN endpoint_field_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_field_hit.field IS 'Field path (body_field.field), or the path of a field the schema does not have';
COMMENT ON COLUMN endpoint_field_hit.known IS 'The field is in the endpoint''s body schema of the release; false: unknown to it';
COMMENT ON COLUMN endpoint_field_hit.test IS 'Test name as in audit_event.test';
COMMENT ON COLUMN endpoint_field_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_field_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_field_hit.hits IS 'Number of request bodies that set the field';

CREATE TABLE endpoint_body_hit (
  release text NOT NULL,
  source text NOT NULL,
  endpoint text NOT NULL,
  test text,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  bodies bigint NOT NULL,
  UNIQUE NULLS NOT DISTINCT (release, source, endpoint, test, test_hit, conf_test_hit)
);
CREATE INDEX endpoint_body_hit_source ON endpoint_body_hit (source);
COMMENT ON TABLE endpoint_body_hit IS
  'Audit events that carried a request body (requestObject), per (release, run, endpoint, test, user-agent class)';
COMMENT ON COLUMN endpoint_body_hit.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN endpoint_body_hit.source IS 'The run (audit_event.source)';
COMMENT ON COLUMN endpoint_body_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_body_hit.test IS 'Test name as in audit_event.test';
COMMENT ON COLUMN endpoint_body_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_body_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_body_hit.bodies IS 'Number of events with a request body';

COMMENT ON COLUMN endpoint_hit.hits IS
  'Number of audit events; 0 for imported rows (published files carry no counts)';
INSERT INTO endpoint_hit (release, source, endpoint, test, test_hit, conf_test_hit, hits, imported)
SELECT release, source, endpoint, test, test_hit, conf_test_hit, hits, imported FROM endpoint_hit_0010;
INSERT INTO endpoint_field_hit (release, source, endpoint, field, known, test, test_hit,
                                conf_test_hit, hits)
SELECT release, source, endpoint, field, known, test, test_hit, conf_test_hit, hits
FROM endpoint_field_hit_0010;
INSERT INTO endpoint_body_hit (release, source, endpoint, test, test_hit, conf_test_hit, bodies)
SELECT release, source, endpoint, test, test_hit, conf_test_hit, bodies FROM endpoint_body_hit_0010;
DROP VIEW endpoint_hit_0010, endpoint_field_hit_0010, endpoint_body_hit_0010;
DROP TABLE run_test, run_hit, run_field_hit, run_body_hit;

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

-- Each run's events as revision 0008 stored them: chunks of 1,000 in event order.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM audit_run WHERE state <> 'imported' ORDER BY run LOOP
    EXECUTE format('CREATE TABLE runs.%I (run bigint NOT NULL CHECK (run = %s),'
                   ' first bigint NOT NULL, audit_id text[] NOT NULL,'
                   ' endpoint text[] NOT NULL, error text[] NOT NULL,'
                   ' useragent text[] NOT NULL, test text[] NOT NULL,'
                   ' test_hit boolean[] NOT NULL,'
                   ' conf_test_hit boolean[] NOT NULL,'
                   ' data text[] NOT NULL)', 'events_' || r.run || '_0008', r.run);
    EXECUTE format($q$
      INSERT INTO runs.%1$I
      SELECT %2$s, (n / 1000) * 1000, array_agg(audit_id ORDER BY n),
             array_agg(endpoint ORDER BY n), array_agg(error ORDER BY n),
             array_agg(useragent ORDER BY n), array_agg(test ORDER BY n),
             array_agg(test_hit ORDER BY n), array_agg(conf_test_hit ORDER BY n),
             array_agg(data::text ORDER BY n)
      FROM (SELECT id - (%2$s::bigint << 40) AS n, * FROM audit_event
            WHERE source = %3$L) x
      GROUP BY n / 1000$q$, 'events_' || r.run || '_0008', r.run, r.source);
  END LOOP;
  DROP VIEW audit_event;
  FOR r IN SELECT * FROM audit_run WHERE state <> 'imported' ORDER BY run LOOP
    EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || r.run, 'chunks_' || r.run);
    EXECUTE format('ALTER TABLE runs.%I RENAME TO %I', 'events_' || r.run || '_0008',
                   'events_' || r.run);
    EXECUTE format('ALTER TABLE runs.%I ADD CONSTRAINT %I PRIMARY KEY (run, first)',
                   'events_' || r.run, 'events_' || r.run || '_pkey');
    EXECUTE format('ALTER TABLE audit_chunk ATTACH PARTITION runs.%I FOR VALUES IN (%s)',
                   'events_' || r.run, r.run);
  END LOOP;
END
$$;
DELETE FROM audit_run WHERE state = 'imported';

-- Revision 0008's functions and view in place of these.
DROP FUNCTION audit_run_heat(text), audit_run_compact(text), audit_run_drop(text),
  audit_run_publish(bigint, text, text, bigint, text), audit_run_prepare(text, text, text),
  audit_run_swap_events(bigint, text, text), audit_run_index(bigint),
  audit_event_rebuild(bigint), audit_run_compression(), audit_run_create_table(bigint, text, text),
  coverage_lock();
DROP TYPE audit_event_values;

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

DROP INDEX audit_run_job_index, audit_run_release_index;
ALTER TABLE audit_run DROP COLUMN job, DROP COLUMN state;
DROP FUNCTION audit_run_job(text), audit_run_build(text), keep_hot_setting();
COMMENT ON TABLE audit_run IS 'One row per loaded CI run: what its events share (snoopdb runs lists them)';
COMMENT ON COLUMN audit_run.run IS 'Run id: the partition key of audit_chunk';
COMMENT ON COLUMN audit_run.events IS 'Number of events of the run';
COMMENT ON SCHEMA runs IS 'The partitions of audit_chunk, one table per loaded run (events_<run>)';
COMMENT ON COLUMN testing.audit_event.release IS 'Release the run counts towards, X.Y.Z (capped at the newest known release)';
COMMENT ON COLUMN testing.audit_event.test IS 'For e2e.test user agents the test name after the first " -- " ('''' if none); null otherwise';
