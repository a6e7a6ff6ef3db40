-- An endpoint's page, which tests hit it when: per job of the newest release with
-- runs that hit it, each test that did, in how many of the runs it ran in, and the
-- builds of those runs, oldest first (from the runs' own hit summaries).
-- Parameter: %(endpoint)s.
WITH newest AS (
  SELECT s.release
  FROM endpoint_stability s
  WHERE s.endpoint = %(endpoint)s
  ORDER BY release_key(s.release) DESC
  LIMIT 1
), hit AS (
  SELECT DISTINCT r.job, t.name AS test, r.run, r.build,
         coalesce(r.started, r.loaded_at::timestamptz) AS at
  FROM run_hit h
  JOIN run_test t ON t.run = h.run AND t.test = h.test
  JOIN audit_run r ON r.run = h.run
  JOIN newest n ON n.release = r.release
  WHERE h.endpoint = %(endpoint)s
)
SELECT h.job,
       h.test,
       s.runs_test_ran,
       s.runs_hit,
       array_agg(coalesce(h.build, h.run::text) ORDER BY h.at, h.run) AS builds
FROM hit h
JOIN newest n ON true
JOIN test_endpoint_stability s ON s.release = n.release AND s.job = h.job AND s.test = h.test
                              AND s.endpoint = %(endpoint)s
GROUP BY h.job, h.test, s.runs_test_ran, s.runs_hit
ORDER BY h.job COLLATE "C", s.runs_hit::numeric / s.runs_test_ran, h.test COLLATE "C"
