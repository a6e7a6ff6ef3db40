-- Conformance coverage that holds across runs: per release with runs, each eligible
-- endpoint of its spec (stable, not deprecated, not in conformance.ineligible_endpoint)
-- and the share of the release's runs (every job's, imported coverage a run of its
-- own) in which a [Conformance] user agent hit it. It counts as conformance-tested
-- only when that share is at least min_share_setting() (snoopdb.min_share, default
-- 1.0: in every run). apisnoop's rule, hit in the newest run, stays in the views that
-- reproduce its published pages. Reads release_run_hit, never events.

CREATE VIEW conformance.stable_coverage AS
WITH release_runs AS (
  SELECT release, count(*) AS runs
  FROM audit_run
  WHERE state <> 'loading'
  GROUP BY release
), conformance_runs AS (
  SELECT release, endpoint, count(*) FILTER (WHERE conf_tested) AS runs
  FROM release_run_hit
  GROUP BY release, endpoint
), setting AS (
  SELECT min_share_setting() AS share
)
SELECT o.release,
       o.endpoint,
       rr.runs,
       coalesce(c.runs, 0) AS runs_conf_hit,
       round(coalesce(c.runs, 0)::numeric / rr.runs, 4) AS conf_tested_share,
       coalesce(c.runs, 0) >= s.share * rr.runs AS conf_tested
FROM open_api o
JOIN release_runs rr ON rr.release = o.release
CROSS JOIN setting s
LEFT JOIN conformance_runs c ON c.release = o.release AND c.endpoint = o.endpoint
WHERE o.level = 'stable'
  AND NOT o.deprecated
  AND NOT EXISTS (SELECT FROM conformance.ineligible_endpoint i WHERE i.endpoint = o.endpoint);

COMMENT ON VIEW conformance.stable_coverage IS
  'Per release with runs and eligible endpoint of its spec: the share of its runs in which a conformance test hit it; conformance-tested when at least min_share_setting()';
COMMENT ON COLUMN conformance.stable_coverage.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN conformance.stable_coverage.endpoint IS 'The eligible endpoint (stable, not deprecated, not ineligible)';
COMMENT ON COLUMN conformance.stable_coverage.runs IS '# of runs of the release, every job''s';
COMMENT ON COLUMN conformance.stable_coverage.runs_conf_hit IS '# of those runs in which a [Conformance] user agent hit it';
COMMENT ON COLUMN conformance.stable_coverage.conf_tested_share IS 'runs_conf_hit / runs, rounded to 4 places';
COMMENT ON COLUMN conformance.stable_coverage.conf_tested IS
  'Hit by a conformance test in at least share min_share_setting() of the runs (snoopdb.min_share, default 1.0)';
