-- The tests that ran in only one of runs %(a)s and %(b)s (snoopdb runs diff): gained
-- (in b only) or lost (in a only), with the number of endpoints each hit there.
WITH ran AS (
  SELECT t.run, t.name, count(DISTINCT h.endpoint) AS endpoints
  FROM run_test t
  LEFT JOIN run_hit h ON h.run = t.run AND h.test = t.test
  WHERE t.run IN (%(a)s, %(b)s)
  GROUP BY t.run, t.name
), a AS (
  SELECT * FROM ran WHERE run = %(a)s
), b AS (
  SELECT * FROM ran WHERE run = %(b)s
)
SELECT name, b.run IS NOT NULL AS gained, coalesce(b.endpoints, a.endpoints) AS endpoints
FROM a
FULL JOIN b USING (name)
WHERE a.run IS NULL OR b.run IS NULL
ORDER BY name COLLATE "C"
