-- The live testing page: testing.projected_change_in_coverage's test_coverage row as
-- it is, with the release it is about and whether that release has coverage data (as
-- endpoint_coverage decides it: rows in release_endpoint_hit). Where it has none,
-- what CI tests is unknown: the view's old_coverage, new_coverage and
-- change_in_number (which count unknown as untested) are null here.
-- (Scalar subqueries, not a join: joined, the planner rewrites the view's plan into
-- one that takes seconds.)
SELECT p.release,
       p.has_data,
       p.category,
       p.total_endpoints,
       CASE WHEN p.has_data THEN p.old_coverage END AS old_coverage,
       CASE WHEN p.has_data THEN p.new_coverage END AS new_coverage,
       CASE WHEN p.has_data THEN p.change_in_number END AS change_in_number
FROM (SELECT (SELECT latest_release()) AS release,
             EXISTS (SELECT FROM release_endpoint_hit h
                     WHERE h.release = (SELECT latest_release())) AS has_data,
             v.*
      FROM testing.projected_change_in_coverage v
      WHERE v.category = 'test_coverage') AS p;
