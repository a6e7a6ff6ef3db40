-- The Runs page: flaky endpoints (endpoint_stability: a [Conformance] user agent hit
-- them in some runs of their job, not all), the least often hit first, with the
-- share of runs.
SELECT s.release,
       s.job,
       s.endpoint,
       s.runs,
       s.runs_conf_hit,
       s.runs_hit,
       round(100.0 * s.runs_conf_hit / s.runs)::integer AS share
FROM endpoint_stability s
WHERE 0 < s.runs_conf_hit AND s.runs_conf_hit < s.runs
ORDER BY s.runs_conf_hit::numeric / s.runs, release_key(s.release) DESC, s.job COLLATE "C",
         s.endpoint COLLATE "C"
