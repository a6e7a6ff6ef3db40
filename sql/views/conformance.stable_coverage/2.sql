-- Conformance coverage that holds across runs, version 2 (revision 0020): per release
-- with runs, each endpoint of its spec that endpoint_eligibility calls eligible (the
-- one rule: stable, a group's discovery operation only when its group serves a stable
-- version, not deprecated, not ineligible, not pending) and the share of the
-- release's runs (every job's, imported coverage a run of its own) in which a
-- [Conformance] user agent hit it. It counts as conformance-tested only when that
-- share is at least min_share_setting() (snoopdb.min_share, default 1.0: in every
-- run). apisnoop's rules, hit in the newest run and eligible as apisnoop published it,
-- stay in the views that reproduce its published pages. Reads release_run_hit, never
-- events.

CREATE OR REPLACE VIEW conformance.stable_coverage AS
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
SELECT e.release,
       e.endpoint,
       rr.runs,
       coalesce(c.runs, 0) AS runs_conf_hit,
       round(coalesce(c.runs, 0)::numeric / rr.runs, 4) AS conf_tested_share,
       coalesce(c.runs, 0) >= s.share * rr.runs AS conf_tested
FROM endpoint_eligibility e
JOIN release_runs rr ON rr.release = e.release
CROSS JOIN setting s
LEFT JOIN conformance_runs c ON c.release = e.release AND c.endpoint = e.endpoint
WHERE e.eligible;

COMMENT ON COLUMN conformance.stable_coverage.endpoint IS
  'The eligible endpoint (endpoint_eligibility.eligible: stable, not deprecated, not ineligible, not pending)';
