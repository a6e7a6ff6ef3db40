-- The endpoints whose coverage differs between run %(a)s and run %(b)s (snoopdb runs
-- diff), from the runs' hit summaries. An endpoint's state in a run ranks 3 hit by a
-- [Conformance] user agent, 2 by a test (e2e.test), 1 only by other user agents, 0
-- not hit; `tests` are the tests that brought it to the higher of its two states in
-- the run that has it (gained: run b's; lost: run a's), none for state 1.
WITH hit AS (
  SELECT h.run, h.endpoint, h.test_hit, h.conf_test_hit, t.name
  FROM run_hit h
  LEFT JOIN run_test t ON t.run = h.run AND t.test = h.test
  WHERE h.run IN (%(a)s, %(b)s)
), state AS (
  SELECT run, endpoint,
         CASE WHEN bool_or(conf_test_hit) THEN 3 WHEN bool_or(test_hit) THEN 2 ELSE 1 END AS rank,
         coalesce(array_agg(DISTINCT name ORDER BY name)
                    FILTER (WHERE conf_test_hit AND name IS NOT NULL), '{}') AS conformance_tests,
         coalesce(array_agg(DISTINCT name ORDER BY name)
                    FILTER (WHERE test_hit AND name IS NOT NULL), '{}') AS tests
  FROM hit
  GROUP BY run, endpoint
), a AS (
  SELECT * FROM state WHERE run = %(a)s
), b AS (
  SELECT * FROM state WHERE run = %(b)s
)
SELECT endpoint,
       coalesce(a.rank, 0) AS was,
       coalesce(b.rank, 0) AS now,
       CASE WHEN coalesce(b.rank, 0) > coalesce(a.rank, 0)
            THEN CASE b.rank WHEN 3 THEN b.conformance_tests WHEN 2 THEN b.tests ELSE '{}' END
            ELSE CASE a.rank WHEN 3 THEN a.conformance_tests WHEN 2 THEN a.tests ELSE '{}' END
       END AS tests
FROM a
FULL JOIN b USING (endpoint)
WHERE coalesce(a.rank, 0) <> coalesce(b.rank, 0)
ORDER BY endpoint COLLATE "C"
