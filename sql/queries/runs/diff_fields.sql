-- The request-body fields (of the body schema) a test set in only one of runs %(a)s
-- and %(b)s (snoopdb runs diff): gained (set in b only) or lost (in a only), with the
-- tests that set them there.
WITH set_by_test AS (
  SELECT h.run, h.endpoint, h.field,
         coalesce(array_agg(DISTINCT t.name ORDER BY t.name)
                    FILTER (WHERE t.name IS NOT NULL), '{}') AS tests
  FROM run_field_hit h
  LEFT JOIN run_test t ON t.run = h.run AND t.test = h.test
  WHERE h.run IN (%(a)s, %(b)s) AND h.known AND h.test_hit
  GROUP BY h.run, h.endpoint, h.field
), a AS (
  SELECT * FROM set_by_test WHERE run = %(a)s
), b AS (
  SELECT * FROM set_by_test WHERE run = %(b)s
)
SELECT endpoint, field, b.run IS NOT NULL AS gained, coalesce(b.tests, a.tests) AS tests
FROM a
FULL JOIN b USING (endpoint, field)
WHERE a.run IS NULL OR b.run IS NULL
ORDER BY endpoint COLLATE "C", field COLLATE "C"
