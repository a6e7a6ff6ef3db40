-- The runs of run %(source)s's job that are in the database (hot or compact) beyond
-- its newest %(keep)s there, newest as beyond_hot.sql orders them: the runs the
-- keep-compact policy archives, oldest last.
WITH ranked AS (
  SELECT r.source,
         row_number() OVER (ORDER BY r.started DESC NULLS LAST,
                                     audit_run_build(r.source) DESC NULLS LAST,
                                     r.loaded_at DESC, r.run DESC) AS rank
  FROM audit_run r
  WHERE r.job = (SELECT job FROM audit_run WHERE source = %(source)s)
    AND r.state IN ('hot', 'compact')
)
SELECT source
FROM ranked
WHERE rank > %(keep)s::integer
ORDER BY rank
