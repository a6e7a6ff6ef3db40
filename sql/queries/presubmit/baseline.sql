-- `snoopdb presubmit` (snoopdb/commands/presubmit.py): the operations conformance
-- tests reached in the baseline runs, from the runs' own summaries (run_hit,
-- run_test; compact and archived runs keep them): in how many of the runs, and by
-- which tests. A conformance test is a codename of the base's conformance.yaml, as
-- the pull request's run is judged by the pull request's.
-- Parameters: %(runs)s (audit_run.run, bigint[]), %(codenames)s (text[]).

SELECT h.endpoint, count(DISTINCT h.run) AS runs,
       array_agg(DISTINCT t.name ORDER BY t.name) AS tests
FROM run_hit h
JOIN run_test t ON t.run = h.run AND t.test = h.test
WHERE h.run = ANY (%(runs)s::bigint[])
  AND t.name = ANY (%(codenames)s::text[])
GROUP BY h.endpoint
ORDER BY h.endpoint COLLATE "C";
