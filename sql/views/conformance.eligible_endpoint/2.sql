-- snoopDB's conformance.eligible_endpoint, version 2 (revision 0020): the same
-- endpoints, read from endpoint_eligibility, the one eligibility relation. It feeds the
-- views that reproduce apisnoop's published files (eligible_endpoint_coverage,
-- progress, coverage_per_release, new_endpoint, the export), so it keeps the rule
-- those files were made by, apisnoop's before apisnoop#1035: stable by the path, not
-- deprecated, not on the ineligible list. Pending endpoints count, as do the
-- discovery operations of groups serving no stable version (their path names no
-- version); endpoint_eligibility marks both not eligible, with their reasons.

CREATE OR REPLACE VIEW conformance.eligible_endpoint AS
SELECT e.endpoint
FROM endpoint_eligibility e
WHERE e.release = (SELECT latest_release())
  AND (e.eligible
       OR e.reason IN ('pending', 'group discovery of a group with no stable version'))
ORDER BY e.endpoint;

COMMENT ON VIEW conformance.eligible_endpoint IS
  'Endpoints of the latest release eligible by apisnoop''s published rule (before apisnoop#1035): endpoint_eligibility''s eligible ones, its pending ones and its group discovery ones';
