-- The loaded CI runs, newest first within each job. A run's job is its source up to
-- the last "/" of its first log (prow: .../logs/<job>; local files: their folder);
-- within a job, runs whose source ends in a build number are ordered by it, else by
-- when they were loaded. `keep` is the run's rank in its job from the newest (1).
SELECT r.source,
       r.release,
       r.events,
       coalesce(pg_total_relation_size(to_regclass(format('runs.%I', 'events_' || r.run))), 0)
         AS bytes,
       r.loaded_at,
       j.job,
       row_number() OVER (
         PARTITION BY j.job
         ORDER BY CASE WHEN j.build ~ '^[0-9]+$' THEN j.build::numeric END DESC NULLS LAST,
                  r.loaded_at DESC, r.run DESC) AS rank
FROM audit_run r
CROSS JOIN LATERAL (
  SELECT regexp_replace(split_part(r.source, ',', 1), '/[^/]*$', '') AS job,
         regexp_replace(split_part(r.source, ',', 1), '^.*/', '') AS build
) j
ORDER BY j.job, rank
