-- The Runs page: every CI run's coverage (run_coverage), by job, oldest first, with
-- its source and result and the time the chart places it at (its start, else its
-- load time), in UTC. Imported published coverage has no time and no job: left out.
SELECT c.run,
       c.job,
       c.build,
       r.source,
       r.state,
       r.result,
       c.release,
       c.events,
       c.endpoints_hit,
       c.tested_stable,
       c.conf_tested_stable,
       to_char(coalesce(c.started, r.loaded_at::timestamptz) AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
       c.started IS NOT NULL AS started
FROM run_coverage c
JOIN audit_run r ON r.run = c.run
WHERE r.state IN ('hot', 'compact', 'archived')
ORDER BY c.job COLLATE "C", coalesce(c.started, r.loaded_at::timestamptz), c.run
