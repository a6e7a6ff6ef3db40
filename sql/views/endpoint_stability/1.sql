-- How stable each endpoint's coverage is over the runs of a job in a release: in how
-- many of them it was hit at all, by a test, by a conformance test. An endpoint is
-- flaky where 0 < runs_conf_hit < runs: a conformance test reaches it in some runs
-- only (a retry, a race), so one run's coverage says "tested" one day and "untested"
-- the next. Endpoints hit in at least one run of the job are listed. Reads
-- release_run_hit (one row per run and endpoint), never events.

CREATE VIEW endpoint_stability AS
WITH run AS (
  SELECT r.run, r.release, r.job, coalesce(r.started, r.loaded_at::timestamptz) AS at,
         count(*) OVER (PARTITION BY r.release, r.job) AS runs
  FROM audit_run r
  WHERE r.state <> 'loading'
)
SELECT r.release,
       r.job,
       h.endpoint,
       r.runs,
       count(*) AS runs_hit,
       count(*) FILTER (WHERE h.tested) AS runs_test_hit,
       count(*) FILTER (WHERE h.conf_tested) AS runs_conf_hit,
       min(r.at) AS first_seen,
       max(r.at) AS last_seen
FROM release_run_hit h
JOIN run r ON r.run = h.run
GROUP BY r.release, r.job, h.endpoint, r.runs;

COMMENT ON VIEW endpoint_stability IS
  'Per release, job and endpoint hit in its runs: in how many runs it was hit, by tests, by conformance tests (flaky: 0 < runs_conf_hit < runs)';
COMMENT ON COLUMN endpoint_stability.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN endpoint_stability.job IS 'The job (audit_run.job)';
COMMENT ON COLUMN endpoint_stability.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_stability.runs IS '# of runs of the job in the release';
COMMENT ON COLUMN endpoint_stability.runs_hit IS '# of those runs in which any user agent hit it';
COMMENT ON COLUMN endpoint_stability.runs_test_hit IS '# of those runs in which a test (e2e.test) hit it';
COMMENT ON COLUMN endpoint_stability.runs_conf_hit IS '# of those runs in which a [Conformance] user agent hit it';
COMMENT ON COLUMN endpoint_stability.first_seen IS 'Start of the first run that hit it (its load time where the start is not known)';
COMMENT ON COLUMN endpoint_stability.last_seen IS 'Start of the last run that hit it (its load time where the start is not known)';
