-- snoopDB's testing.untested_stable_endpoint, version 2 (revision 0020): stable and
-- eligible as endpoint_eligibility says, the one rule, so a group's discovery
-- operation is stable only when its group serves a stable version, and an endpoint on
-- the pending list is not eligible (it may wait for a test).

CREATE OR REPLACE VIEW testing.untested_stable_endpoint AS
SELECT ec.release,
       ec.endpoint,
       e.level,
       ec.category,
       ec.path,
       ec.description,
       ec.kind,
       ec.version,
       ec."group",
       ec.action,
       ec.tested,
       ec.conf_tested,
       ec.tests,
       e.eligible
FROM endpoint_coverage ec
JOIN endpoint_eligibility e USING (release, endpoint)
WHERE ec.release = (SELECT latest_release())
  AND e.level = 'stable'
  AND NOT ec.tested
ORDER BY ec.endpoint DESC;

COMMENT ON COLUMN testing.untested_stable_endpoint.level IS
  'Always stable (endpoint_eligibility.level: a group''s discovery operation at its group''s most stable version)';
COMMENT ON COLUMN testing.untested_stable_endpoint.eligible IS
  'endpoint_eligibility.eligible: conformance tests must cover it (not deprecated, not ineligible, not pending)';
