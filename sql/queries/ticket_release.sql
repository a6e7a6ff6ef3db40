-- The ticket's release (the views' latest release), where its coverage comes from
-- (release_coverage: with 'no data', what CI tests is unknown and the ticket says
-- so rather than "untested"), and testing.projected_change_in_coverage's totals.
SELECT r.release, rc.coverage, p.total_endpoints, p.old_coverage
FROM (SELECT latest_release() AS release) AS r
LEFT JOIN release_coverage rc ON rc.release = r.release
CROSS JOIN testing.projected_change_in_coverage p;
