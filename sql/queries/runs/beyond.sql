-- The runs of run %(source)s's job in the database (hot or compact) beyond its newest
-- %(keep)s there (null: the database's setting, keep_hot_setting()), newest being by
-- the build's start time where known, then build number, then load time; of those,
-- the ones in a state of %(states)s: the hot ones a load compacts (keep-hot), or any,
-- which it archives (keep-compact).
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
WHERE state = ANY(%(states)s)
  AND rank > coalesce(%(keep)s::integer, keep_hot_setting())
ORDER BY rank
