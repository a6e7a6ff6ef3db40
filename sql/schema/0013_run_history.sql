-- Coverage across runs (revision 0013): many runs of a job kept side by side answer
-- how stable each endpoint's coverage is, how it moves, and what changed.
--
-- A prow run records what its build's started.json and finished.json say (build id,
-- start time, commit, result); the runs of a job are ordered by start time where
-- known, then build number, then load time (sql/queries/runs/*.sql).
--
-- Two per-release summaries, partitioned by release like the others and rewritten
-- with them (refresh_release_coverage, release_summaries_rewrite version 5), hold
-- what the stability views read, so that none of them reads events or more than one
-- row per run and endpoint:
--   release_run_hit            per run, each endpoint it hit and by whom;
--   release_test_endpoint_hit  per job, each (test, endpoint) pair: in how many runs
--                              the test ran and in how many it hit the endpoint.

ALTER TABLE audit_run ADD COLUMN build text;
ALTER TABLE audit_run ADD COLUMN started timestamptz;
ALTER TABLE audit_run ADD COLUMN commit text;
ALTER TABLE audit_run ADD COLUMN result text;
-- runs loaded before: the build their source ends in; the rest is not known
UPDATE audit_run SET build = audit_run_build(source)::text WHERE audit_run_build(source) IS NOT NULL;
COMMENT ON COLUMN audit_run.build IS
  'Prow build id (the last part of its source); null for local files and imported coverage';
COMMENT ON COLUMN audit_run.started IS
  'When the build started (its started.json); null when not known (local files, runs loaded before revision 0013)';
COMMENT ON COLUMN audit_run.commit IS
  'The kubernetes commit the build tested (started.json repo-commit, else its version); null when not known';
COMMENT ON COLUMN audit_run.result IS
  'The build''s result as its finished.json says (SUCCESS, FAILURE, …); null when not known';
COMMENT ON FUNCTION audit_run_build(text) IS
  'The build number a run''s source ends in (prow: .../<job>/<build>), null if none: runs of a job are ordered by start time, then by it, then by load time';

-- The share of runs in which a conformance test must hit an endpoint for the
-- stability-aware views (conformance.stable_coverage, stable_progress) to count it
-- as conformance-tested. `snoopdb runs min-share S` sets it for the database (ALTER
-- DATABASE … SET snoopdb.min_share); `SET snoopdb.min_share = 0.8` overrides it for a
-- session. A session sees the database's value of when it started, as with any
-- database setting, or, when it started before one was set, the value in the
-- catalog; 1.0 when none is set.
CREATE FUNCTION min_share_setting() RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
DECLARE
  value text := nullif(current_setting('snoopdb.min_share', true), '');
  share numeric;
BEGIN
  IF value IS NULL THEN
    SELECT substr(c, length('snoopdb.min_share=') + 1) INTO value
    FROM pg_db_role_setting s
    CROSS JOIN LATERAL unnest(s.setconfig) AS c
    WHERE s.setrole = 0
      AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND c LIKE 'snoopdb.min\_share=%';
  END IF;
  IF value IS NULL THEN
    RETURN 1.0;
  END IF;
  BEGIN
    share := value::numeric;
  EXCEPTION WHEN invalid_text_representation THEN
    share := NULL;
  END;
  IF share IS NULL OR share <= 0 OR share > 1 THEN
    RAISE EXCEPTION 'snoopdb.min_share must be a share of runs above 0 and at most 1, not %',
      quote_literal(value) USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN share;
END
$$;
COMMENT ON FUNCTION min_share_setting() IS
  'Share of runs in which a conformance test must hit an endpoint for conformance.stable_* to count it: SET snoopdb.min_share, else the database''s setting, else 1.0';

CREATE TABLE release_run_hit (
  release text NOT NULL,
  run bigint NOT NULL,
  endpoint text NOT NULL,
  tested boolean NOT NULL,
  conf_tested boolean NOT NULL
) PARTITION BY LIST (release);
CREATE INDEX release_run_hit_endpoint ON release_run_hit (endpoint);
COMMENT ON TABLE release_run_hit IS
  'Per run of a release, each endpoint it hit and by whom (from run_hit; refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_run_hit.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN release_run_hit.run IS 'audit_run.run';
COMMENT ON COLUMN release_run_hit.endpoint IS 'The operationId hit in the run';
COMMENT ON COLUMN release_run_hit.tested IS 'Hit in the run by a test (e2e.test) user agent';
COMMENT ON COLUMN release_run_hit.conf_tested IS 'Hit in the run by a [Conformance] user agent';

CREATE TABLE release_test_endpoint_hit (
  release text NOT NULL,
  job text NOT NULL,
  test text NOT NULL,
  endpoint text NOT NULL,
  runs_test_ran integer NOT NULL,
  runs_hit integer NOT NULL
) PARTITION BY LIST (release);
CREATE INDEX release_test_endpoint_hit_endpoint ON release_test_endpoint_hit (endpoint);
COMMENT ON TABLE release_test_endpoint_hit IS
  'Per job of a release, each (test, endpoint) pair hit in one of its runs: in how many runs the test ran, in how many it hit the endpoint (refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_test_endpoint_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_test_endpoint_hit.job IS 'audit_run.job of the runs';
COMMENT ON COLUMN release_test_endpoint_hit.test IS 'Test name as in audit_event.test ('''' = an e2e.test user agent without one)';
COMMENT ON COLUMN release_test_endpoint_hit.endpoint IS 'The operationId the test hit';
COMMENT ON COLUMN release_test_endpoint_hit.runs_test_ran IS 'Runs of the job in which the test ran (an event of it mapped to an endpoint)';
COMMENT ON COLUMN release_test_endpoint_hit.runs_hit IS 'Runs of the job in which the test hit the endpoint';
