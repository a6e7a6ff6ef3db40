-- The hot runs of run %(source)s's job beyond its newest %(keep)s (null: the
-- database's setting, keep_hot_setting()), newest being by the build's start time
-- where known, then build number, then load time: the runs a load compacts.
WITH ranked AS (
  SELECT r.source,
         r.state,
         row_number() OVER (ORDER BY r.started DESC NULLS LAST,
                                     audit_run_build(r.source) DESC NULLS LAST,
                                     r.loaded_at DESC, r.run DESC) AS rank
  FROM audit_run r
  WHERE r.job = (SELECT job FROM audit_run WHERE source = %(source)s)
    AND r.state IN ('hot', 'compact')
)
SELECT source
FROM ranked
WHERE state = 'hot'
  AND rank > coalesce(%(keep)s::integer, keep_hot_setting())
ORDER BY rank
