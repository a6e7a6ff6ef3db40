-- The live testing page: per live user agent, from testing.endpoint_hit_by_new_test,
-- the endpoints it hit, how many of them it newly covers, and its events on them.
-- newly_covered is null (unknown) when the release it is counted in has no coverage
-- data (hit_by_ete null), not 0.
SELECT useragent,
       count(*) AS endpoints,
       CASE WHEN count(hit_by_ete) = count(*) THEN count(*) FILTER (WHERE NOT hit_by_ete) END
         AS newly_covered,
       sum(hit_by_new_test)::bigint AS events
FROM testing.endpoint_hit_by_new_test
GROUP BY useragent
ORDER BY useragent;
