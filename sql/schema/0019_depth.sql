-- Depth coverage (revision 0019, docs/depth.md): which query parameters and response
-- status codes operations declare, and which the runs' events used.
--
-- Spec side, per release, written with the spec (loaders/spec.py): endpoint_parameter
-- (every parameter an operation declares, its path item's included) and
-- endpoint_response (the status codes it declares).
--
-- Event side, per run, as the field tallies are: run_param_hit (query parameter names
-- of each event, and the values of those that select behaviour) and run_status_hit
-- (response status codes), partitioned by run, written fresh in the load's
-- transaction and swapped in with the run's other summaries; the per-release
-- summaries release_param_hit and release_status_hit merge them
-- (refresh_coverage version 6). Live events tally into testing.param_hit and
-- testing.status_hit, removed with them by delete_older_test_events() (version 3).

CREATE TABLE endpoint_parameter (
  release text NOT NULL,
  endpoint text NOT NULL,
  parameter text NOT NULL,
  location text NOT NULL,
  required boolean NOT NULL,
  type text,
  PRIMARY KEY (release, endpoint, location, parameter)
);
COMMENT ON TABLE endpoint_parameter IS
  'Every parameter each operation of a release declares, its path item''s included (loaded with the spec)';
COMMENT ON COLUMN endpoint_parameter.release IS 'Release of the spec, X.Y.Z';
COMMENT ON COLUMN endpoint_parameter.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_parameter.parameter IS 'The parameter''s name';
COMMENT ON COLUMN endpoint_parameter.location IS 'Where it goes: path, query or body (the spec''s "in")';
COMMENT ON COLUMN endpoint_parameter.required IS 'The spec says it is required';
COMMENT ON COLUMN endpoint_parameter.type IS 'Its type (string, integer, boolean…), or a body''s definition; null when the spec gives none';

CREATE TABLE endpoint_response (
  release text NOT NULL,
  endpoint text NOT NULL,
  code text NOT NULL,
  PRIMARY KEY (release, endpoint, code)
);
COMMENT ON TABLE endpoint_response IS 'The response status codes each operation of a release declares (loaded with the spec)';
COMMENT ON COLUMN endpoint_response.release IS 'Release of the spec, X.Y.Z';
COMMENT ON COLUMN endpoint_response.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_response.code IS 'The status code as the spec writes it (200, 201, 401…)';

CREATE TABLE run_param_hit (
  run bigint NOT NULL,
  endpoint text NOT NULL,
  parameter text NOT NULL,
  value text,
  test integer,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL
) PARTITION BY LIST (run);
COMMENT ON TABLE run_param_hit IS
  'Events naming a query parameter, per (run, endpoint, parameter, value, test, user-agent class), one partition per run';
COMMENT ON COLUMN run_param_hit.run IS 'audit_run.run';
COMMENT ON COLUMN run_param_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN run_param_hit.parameter IS 'Query parameter name (cut to 128 bytes); $more counts names past the 100 undeclared ones listed per endpoint';
COMMENT ON COLUMN run_param_hit.value IS 'Its value, for the parameters that select behaviour (dryRun, propagationPolicy, watch…; cut to 64 bytes); null for the others';
COMMENT ON COLUMN run_param_hit.test IS 'run_test.test of the test; null for non-test user agents';
COMMENT ON COLUMN run_param_hit.test_hit IS 'Events came from an e2e.test user agent';
COMMENT ON COLUMN run_param_hit.conf_test_hit IS 'Events came from a [Conformance] user agent';
COMMENT ON COLUMN run_param_hit.hits IS 'Number of events';

CREATE TABLE run_status_hit (
  run bigint NOT NULL,
  endpoint text NOT NULL,
  code text NOT NULL,
  test integer,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL
) PARTITION BY LIST (run);
COMMENT ON TABLE run_status_hit IS
  'Events per (run, endpoint, response status code, test, user-agent class), one partition per run';
COMMENT ON COLUMN run_status_hit.run IS 'audit_run.run';
COMMENT ON COLUMN run_status_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN run_status_hit.code IS 'responseStatus.code, 100-599; $invalid for any other number or a value that is not one';
COMMENT ON COLUMN run_status_hit.test IS 'run_test.test of the test; null for non-test user agents';
COMMENT ON COLUMN run_status_hit.test_hit IS 'Events came from an e2e.test user agent';
COMMENT ON COLUMN run_status_hit.conf_test_hit IS 'Events came from a [Conformance] user agent';
COMMENT ON COLUMN run_status_hit.hits IS 'Number of events';

CREATE TABLE testing.param_hit (
  source text NOT NULL,
  useragent text,
  endpoint text NOT NULL,
  parameter text NOT NULL,
  value text,
  hits bigint NOT NULL,
  ingested_at timestamp NOT NULL DEFAULT now()
);
CREATE INDEX param_hit_useragent ON testing.param_hit USING hash (useragent);
CREATE INDEX param_hit_ingested_at ON testing.param_hit (ingested_at);
CREATE INDEX param_hit_source ON testing.param_hit (source);
COMMENT ON TABLE testing.param_hit IS
  'Query parameters of live events, per batch (source, time), user agent and endpoint (as run_param_hit)';
COMMENT ON COLUMN testing.param_hit.source IS 'Where the batch came from (the auditlogger''s webhook, or a load --testing source)';
COMMENT ON COLUMN testing.param_hit.useragent IS 'The live user agent (a test being written is named by it)';
COMMENT ON COLUMN testing.param_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN testing.param_hit.parameter IS 'Query parameter name; $more counts names past the 100 undeclared ones listed per endpoint';
COMMENT ON COLUMN testing.param_hit.value IS 'Its value, for the parameters that select behaviour; null for the others';
COMMENT ON COLUMN testing.param_hit.hits IS 'Number of events';
COMMENT ON COLUMN testing.param_hit.ingested_at IS 'When the batch was stored (delete_older_test_events() removes by it)';

CREATE TABLE testing.status_hit (
  source text NOT NULL,
  useragent text,
  endpoint text NOT NULL,
  code text NOT NULL,
  hits bigint NOT NULL,
  ingested_at timestamp NOT NULL DEFAULT now()
);
CREATE INDEX status_hit_useragent ON testing.status_hit USING hash (useragent);
CREATE INDEX status_hit_ingested_at ON testing.status_hit (ingested_at);
CREATE INDEX status_hit_source ON testing.status_hit (source);
COMMENT ON TABLE testing.status_hit IS
  'Response status codes of live events, per batch (source, time), user agent and endpoint (as run_status_hit)';
COMMENT ON COLUMN testing.status_hit.source IS 'Where the batch came from (the auditlogger''s webhook, or a load --testing source)';
COMMENT ON COLUMN testing.status_hit.useragent IS 'The live user agent (a test being written is named by it)';
COMMENT ON COLUMN testing.status_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN testing.status_hit.code IS 'responseStatus.code, 100-599; $invalid for any other value';
COMMENT ON COLUMN testing.status_hit.hits IS 'Number of events';
COMMENT ON COLUMN testing.status_hit.ingested_at IS 'When the batch was stored (delete_older_test_events() removes by it)';

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
    WHEN 'param_hit' THEN
      format('run bigint NOT NULL CHECK (run = %s), endpoint text NOT NULL,'
             ' parameter text NOT NULL, value text, test integer,'
             ' test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL,'
             ' hits bigint NOT NULL', id)
    WHEN 'status_hit' THEN
      format('run bigint NOT NULL CHECK (run = %s), endpoint text NOT NULL,'
             ' code text NOT NULL, test integer,'
             ' test_hit boolean NOT NULL, conf_test_hit boolean NOT NULL,'
             ' hits bigint NOT NULL', id)
    END);
END
$$;
COMMENT ON FUNCTION audit_run_create_table(bigint, text, text) IS
  'Create runs.<name>, a table of run id of kind events, chunks, test, hit, field_hit, body_hit, param_hit or status_hit';
-- A load of run `source` starts here: waits for any other load of the same run,
-- registers the run on its first load, and creates its fresh tables in the caller's
-- transaction: runs.events_<run>_new (hot loads) and runs.<summary>_<run>_new for
-- test, hit, field_hit, body_hit, param_hit and status_hit. The caller COPYs into them, then calls
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
  FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit', 'param_hit', 'status_hit'] LOOP
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
  FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit', 'param_hit', 'status_hit'] LOOP
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
  FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit', 'param_hit', 'status_hit'] LOOP
    EXECUTE format('DROP TABLE IF EXISTS runs.%I', kind || '_' || dropped.run);
  END LOOP;
  RETURN dropped;
END
$$;
COMMENT ON FUNCTION audit_run_drop(text) IS
  'Drop run source: its events, its summary partitions and its row; returns the row (null run: no such run)';

-- `runs drop`, `runs prune` and `releases drop` in batches (revision 0018): the
-- depth partitions go with the rest of each run.
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
    FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit', 'param_hit', 'status_hit'] LOOP
      EXECUTE format('DROP TABLE IF EXISTS runs.%I', kind || '_' || dropped.run);
    END LOOP;
    RETURN NEXT dropped;
  END LOOP;
END
$$;
COMMENT ON FUNCTION audit_runs_drop(text[]) IS
  'Drop the runs run_sources name (their events, summary partitions and rows), audit_event rewritten once; returns their rows';

-- Runs loaded before this revision get empty depth partitions: every run's summaries
-- have the same kinds (their depth is unknown until they are loaded again).
DO $$
DECLARE
  r record;
  kind text;
BEGIN
  FOR r IN SELECT run FROM audit_run WHERE to_regclass(format('runs.%I', 'hit_' || run)) IS NOT NULL LOOP
    FOREACH kind IN ARRAY ARRAY['param_hit', 'status_hit'] LOOP
      PERFORM audit_run_create_table(r.run, kind, kind || '_' || r.run);
      EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION runs.%I FOR VALUES IN (%s)',
                     'run_' || kind, kind || '_' || r.run, r.run);
    END LOOP;
  END LOOP;
END
$$;
