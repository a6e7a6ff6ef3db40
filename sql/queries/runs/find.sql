-- A loaded run named by its source (%(source)s), or by its job and build
-- (%(job)s, %(build)s: the job as audit_run.job has it, or its last part, the prow job's
-- name). More than one row: the name fits runs of several jobs (buckets).
SELECT r.run, r.source, r.job, r.build, r.release, r.started, r.state, r.events
FROM audit_run r
WHERE r.state <> 'loading'
  AND (r.source = %(source)s
       OR (r.build = %(build)s
           AND (r.job = %(job)s OR right(r.job, length(%(job)s) + 1) = '/' || %(job)s)))
ORDER BY r.run
