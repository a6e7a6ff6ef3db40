-- An endpoint's page, its coverage across runs: per release and job with runs, in
-- how many runs it was hit, by tests, by conformance tests (endpoint_stability; none
-- where no run hit it). Parameter: %(endpoint)s.
SELECT s.release,
       s.job,
       s.runs,
       s.runs_hit,
       s.runs_test_hit,
       s.runs_conf_hit,
       round(100.0 * s.runs_conf_hit / s.runs)::integer AS share
FROM endpoint_stability s
WHERE s.endpoint = %(endpoint)s
ORDER BY release_key(s.release) DESC, s.job COLLATE "C"
