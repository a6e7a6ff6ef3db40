-- The live testing page: per live user agent, from testing.endpoint_hit_by_new_test,
-- the endpoints it hit, how many of them it newly covers, and its events on them.
SELECT useragent,
       count(*) AS endpoints,
       count(*) FILTER (WHERE NOT hit_by_ete) AS newly_covered,
       sum(hit_by_new_test)::bigint AS events
FROM testing.endpoint_hit_by_new_test
GROUP BY useragent
ORDER BY useragent;
