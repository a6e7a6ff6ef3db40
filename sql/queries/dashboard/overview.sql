-- The release overview: endpoint_coverage of one release counted at every level of
-- the sunburst (level -> category -> kind -> endpoint) and by category alone, in
-- one pass. `grouping` tells the rows apart: a bit is set for each column counted
-- over (15 = the whole release, 7 = a level, 11 = a category over all levels,
-- 3 = a level's category, 1 = a kind in it, 0 = one endpoint).
-- A null kind or category is the endpoint's own (no x-kubernetes-group-version-kind).
-- total, tested and conf_tested are endpoint_coverage's counts; the *_state columns
-- split total by colour, each endpoint counted once (conformance, else tested,
-- else untested, else no data).
-- In a release without coverage data endpoint_coverage's tested and conf_tested are
-- null (unknown): so are the counts of them here, not 0 (count(tested) counts the
-- known values; every group has at least one row).
-- Parameter: %(release)s, X.Y.Z.

SELECT GROUPING(level, category, kind, endpoint) AS grouping,
       level,
       category,
       kind,
       endpoint,
       count(*) AS total,
       CASE WHEN count(tested) > 0 THEN count(*) FILTER (WHERE tested) END AS tested,
       CASE WHEN count(conf_tested) > 0 THEN count(*) FILTER (WHERE conf_tested) END
         AS conf_tested,
       -- the sunburst's colours, as endpoints.sql's state: they add up to total
       count(*) FILTER (WHERE conf_tested) AS conformance_state,
       count(*) FILTER (WHERE tested AND NOT conf_tested) AS tested_state,
       count(*) FILTER (WHERE NOT tested AND NOT conf_tested) AS untested_state,
       count(*) FILTER (WHERE tested IS NULL) AS no_data_state
FROM endpoint_coverage
WHERE release = %(release)s
GROUP BY GROUPING SETS ((), (level), (category), (level, category), (level, category, kind),
                        (level, category, kind, endpoint))
-- Parents before children, stable before beta before alpha; within a kind, the
-- conformance-tested endpoints first, then the tested, then the untested, so the
-- sunburst's outer ring shows each colour as one run.
ORDER BY grouping DESC, level DESC, category COLLATE "C", kind COLLATE "C" NULLS LAST,
         conf_tested DESC, tested DESC, endpoint COLLATE "C";
