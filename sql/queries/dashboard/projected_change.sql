-- The live testing page: testing.projected_change_in_coverage as it is, with the
-- release it is about.
SELECT latest_release() AS release,
       category,
       total_endpoints,
       old_coverage,
       new_coverage,
       change_in_number
FROM testing.projected_change_in_coverage;
