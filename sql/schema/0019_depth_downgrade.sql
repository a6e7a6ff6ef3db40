-- Back to revision 0017: the depth tables go (their run partitions with them), and
-- the run functions know the four summary kinds of revision 0010 again.

DROP TABLE run_param_hit, run_status_hit, endpoint_parameter, endpoint_response,
  testing.param_hit, testing.status_hit;

-- One run's table of `kind`, named runs.<name>, columns spelled out (LIKE would lock a
-- parent until commit); summary kinds carry the CHECK that lets them attach to their
-- parent without a validation scan.
CREATE OR REPLACE FUNCTION audit_run_create_table(id bigint, kind text, name text) RETURNS void
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
-- A load of run `source` starts here: waits for any other load of the same run,
-- registers the run on its first load, and creates its fresh tables in the caller's
-- transaction: runs.events_<run>_new (hot loads) and runs.<summary>_<run>_new for
-- test, hit, field_hit and body_hit. The caller COPYs into them, then calls
-- audit_run_publish. Returns the run id.
CREATE OR REPLACE FUNCTION audit_run_prepare(run_source text, run_release text, run_state text)
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
CREATE OR REPLACE FUNCTION audit_run_publish(id bigint, run_release text, run_release_date text,
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
CREATE OR REPLACE FUNCTION audit_run_drop(run_source text) RETURNS audit_run
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

CREATE OR REPLACE FUNCTION audit_runs_drop(run_sources text[]) RETURNS SETOF audit_run
LANGUAGE plpgsql AS $$
DECLARE
  dropped audit_run;
  gone audit_run[] := '{}';
  run_source text;
  kind text;
BEGIN
  FOREACH run_source IN ARRAY run_sources LOOP
    PERFORM audit_run_lock(run_source);
  END LOOP;
  PERFORM coverage_lock();
  FOR dropped IN DELETE FROM audit_run WHERE source = ANY (run_sources) RETURNING * LOOP
    gone := gone || dropped;
  END LOOP;
  IF EXISTS (SELECT FROM unnest(gone) g WHERE g.state IN ('hot', 'compact')) THEN
    PERFORM audit_event_rebuild();
  END IF;
  FOREACH dropped IN ARRAY gone LOOP
    EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || dropped.run,
                   'chunks_' || dropped.run);
    FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit'] LOOP
      EXECUTE format('DROP TABLE IF EXISTS runs.%I', kind || '_' || dropped.run);
    END LOOP;
    RETURN NEXT dropped;
  END LOOP;
END
$$;
COMMENT ON FUNCTION audit_runs_drop(text[]) IS
  'Drop the runs run_sources name (their events, summary partitions and rows), audit_event rewritten once; returns their rows';
