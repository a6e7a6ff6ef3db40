-- Coverage per run: what each run of each job hit, so that coverage can be followed
-- over time. Reads the per-release summary release_run_hit (one row per run and
-- endpoint), never events. Every run counts, imported published coverage included
-- (a run with no events). Rows by job, oldest run first: by start time where known,
-- then build number, then load time.

CREATE VIEW run_coverage AS
WITH hit AS (
  SELECT h.run,
         count(*) AS endpoints_hit,
         count(*) FILTER (WHERE h.tested AND o.endpoint IS NOT NULL) AS tested_stable,
         count(*) FILTER (WHERE h.conf_tested AND o.endpoint IS NOT NULL) AS conf_tested_stable
  FROM release_run_hit h
  LEFT JOIN open_api o ON o.release = h.release AND o.endpoint = h.endpoint
                      AND o.level = 'stable' AND NOT o.deprecated
  GROUP BY h.run
)
SELECT r.run,
       r.job,
       r.build,
       r.started,
       r.release,
       r.events,
       coalesce(h.endpoints_hit, 0) AS endpoints_hit,
       coalesce(h.tested_stable, 0) AS tested_stable,
       coalesce(h.conf_tested_stable, 0) AS conf_tested_stable
FROM audit_run r
LEFT JOIN hit h ON h.run = r.run
WHERE r.state <> 'loading'
ORDER BY r.job, r.started NULLS FIRST, audit_run_build(r.source) NULLS FIRST, r.loaded_at, r.run;

COMMENT ON VIEW run_coverage IS
  'Per run (CI run, local logs or imported coverage): the endpoints it hit, and the stable ones tests and conformance tests hit in it';
COMMENT ON COLUMN run_coverage.run IS 'audit_run.run';
COMMENT ON COLUMN run_coverage.job IS 'The job the run belongs to (audit_run.job: prow .../logs/<job>, or the folder of local files)';
COMMENT ON COLUMN run_coverage.build IS 'Prow build id; null for local files and imported coverage';
COMMENT ON COLUMN run_coverage.started IS 'When the build started (started.json); null when not known';
COMMENT ON COLUMN run_coverage.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN run_coverage.events IS 'Audit events of the run (0 for imported coverage)';
COMMENT ON COLUMN run_coverage.endpoints_hit IS '# of endpoints any user agent hit in the run';
COMMENT ON COLUMN run_coverage.tested_stable IS '# of stable, non-deprecated endpoints of the release a test (e2e.test) hit in the run';
COMMENT ON COLUMN run_coverage.conf_tested_stable IS '# of stable, non-deprecated endpoints of the release a [Conformance] user agent hit in the run';
