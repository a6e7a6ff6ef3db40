-- `snoopdb export`'s runs.json and stability.json (snoopdb/commands/export.py), in the
-- export's snapshot: every run's coverage (run_coverage with what audit_run knows of
-- it), and how stable each endpoint's coverage is over the runs of each job
-- (endpoint_stability; flaky: 0 < runs_conf_hit < runs), with the tests that hit an
-- endpoint in some of the runs they ran in only (test_endpoint_stability). Times in
-- UTC, text in byte order; runs named by their source, not their id (which a drop
-- and a reload change), so that the same runs give the same bytes.

WITH utc AS (
  SELECT 'YYYY-MM-DD"T"HH24:MI:SS"Z"' AS format
)
SELECT
  (SELECT coalesce(json_agg(json_build_object(
            'job', c.job, 'build', c.build, 'source', r.source,
            'state', r.state,
            'started', to_char(c.started AT TIME ZONE 'UTC', u.format),
            'release', c.release, 'commit', r.commit, 'result', r.result,
            'events', c.events, 'endpoints_hit', c.endpoints_hit,
            'tested_stable', c.tested_stable, 'conf_tested_stable', c.conf_tested_stable)
          ORDER BY c.job COLLATE "C", c.started NULLS FIRST, audit_run_build(r.source) NULLS FIRST,
                   r.loaded_at, c.run), '[]')
   FROM run_coverage c
   JOIN audit_run r ON r.run = c.run
   CROSS JOIN utc u) AS runs,

  json_build_object(
    'min_share', (SELECT min_share_setting()),
    'endpoints', (SELECT coalesce(json_agg(json_build_object(
                    'release', s.release, 'job', s.job, 'endpoint', s.endpoint,
                    'runs', s.runs, 'runs_hit', s.runs_hit, 'runs_test_hit', s.runs_test_hit,
                    'runs_conf_hit', s.runs_conf_hit,
                    'flaky', 0 < s.runs_conf_hit AND s.runs_conf_hit < s.runs,
                    'first_seen', to_char(s.first_seen AT TIME ZONE 'UTC', u.format),
                    'last_seen', to_char(s.last_seen AT TIME ZONE 'UTC', u.format))
                  ORDER BY release_key(s.release), s.job COLLATE "C",
                           s.endpoint COLLATE "C"), '[]')
                  FROM endpoint_stability s CROSS JOIN utc u),
    'tests', (SELECT coalesce(json_agg(json_build_object(
                'release', t.release, 'job', t.job, 'test', t.test, 'endpoint', t.endpoint,
                'runs_test_ran', t.runs_test_ran, 'runs_hit', t.runs_hit)
              ORDER BY release_key(t.release), t.job COLLATE "C", t.endpoint COLLATE "C",
                       t.test COLLATE "C"), '[]')
              FROM test_endpoint_stability t
              WHERE t.runs_hit < t.runs_test_ran)) AS stability
