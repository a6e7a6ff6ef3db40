-- The loaded CI runs (imported coverage files are not runs), newest first within each
-- job: by the build's start time where known, then build number where the source
-- ends in one, then load time. Columns as db/runs.Run has them, then `rank`, the
-- run's place in its job from the newest (1); bytes are its events' table and its
-- summary partitions, indexes and TOAST included (an archived run's: its summaries;
-- its file's size is archive_bytes).
SELECT r.run,
       r.source,
       r.job,
       r.build,
       r.release,
       r.started,
       r.loaded_at,
       r.state,
       r.events,
       (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
        FROM pg_class c
        WHERE c.relnamespace = 'runs'::regnamespace
          AND c.relname IN ('events_' || r.run, 'chunks_' || r.run, 'test_' || r.run,
                            'hit_' || r.run, 'field_hit_' || r.run, 'body_hit_' || r.run,
                            'param_hit_' || r.run, 'status_hit_' || r.run)
       )::bigint AS bytes,
       r.archive,
       r.archive_bytes,
       row_number() OVER (PARTITION BY r.job
                          ORDER BY r.started DESC NULLS LAST,
                                   audit_run_build(r.source) DESC NULLS LAST,
                                   r.loaded_at DESC, r.run DESC) AS rank
FROM audit_run r
WHERE r.state IN ('hot', 'compact', 'archived')
ORDER BY r.job, rank
