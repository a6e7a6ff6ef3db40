-- The ticket's release (the views' latest release), whether it has coverage data
-- (as endpoint_coverage decides it: rows in release_endpoint_hit; with none, what
-- CI tests is unknown and the ticket says so rather than "untested"), and
-- testing.projected_change_in_coverage's test_coverage totals. Scalar subqueries, not a join:
-- joined, the planner rewrites the view's plan into one that takes seconds.
SELECT (SELECT latest_release()) AS release,
       EXISTS (SELECT FROM release_endpoint_hit h
               WHERE h.release = (SELECT latest_release())) AS has_data,
       p.total_endpoints,
       p.old_coverage
FROM testing.projected_change_in_coverage p
WHERE p.category = 'test_coverage';
