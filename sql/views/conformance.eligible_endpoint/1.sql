-- snoopDB's conformance.eligible_endpoint: what conformance tests are expected to
-- cover today.

CREATE VIEW conformance.eligible_endpoint AS
SELECT o.endpoint
FROM open_api o
WHERE o.release = (SELECT latest_release())
  AND o.level = 'stable'
  AND NOT o.deprecated
  AND NOT EXISTS (SELECT FROM conformance.ineligible_endpoint i WHERE i.endpoint = o.endpoint)
ORDER BY o.endpoint;

COMMENT ON VIEW conformance.eligible_endpoint IS
  'Stable, non-deprecated endpoints of the latest release that are not in conformance.ineligible_endpoint';
COMMENT ON COLUMN conformance.eligible_endpoint.endpoint IS 'The operationId, as in open_api';
