-- The live testing page: testing.projected_change_in_coverage as it is, with the
-- release it is about and where that release's coverage comes from
-- (release_coverage). Where it has no coverage data, what CI tests is unknown: the
-- view's old_coverage, new_coverage and change_in_number (which count unknown as
-- untested) are null here.
SELECT p.release,
       rc.coverage,
       p.category,
       p.total_endpoints,
       CASE WHEN rc.coverage <> 'no data' THEN p.old_coverage END AS old_coverage,
       CASE WHEN rc.coverage <> 'no data' THEN p.new_coverage END AS new_coverage,
       CASE WHEN rc.coverage <> 'no data' THEN p.change_in_number END AS change_in_number
FROM (SELECT latest_release() AS release, * FROM testing.projected_change_in_coverage) AS p
LEFT JOIN release_coverage rc ON rc.release = p.release;
