-- snoopDB's testing.untested_stable_endpoint: where to write the next test. The
-- endpoint_coverage rows of the latest release that are stable and that no test
-- user agent hit, with whether conformance tests are expected to cover them.

CREATE VIEW testing.untested_stable_endpoint AS
SELECT ec.release,
       ec.endpoint,
       ec.level,
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
       EXISTS (SELECT FROM conformance.eligible_endpoint e WHERE e.endpoint = ec.endpoint) AS eligible
FROM endpoint_coverage ec
WHERE ec.release = (SELECT latest_release())
  AND ec.level = 'stable'
  AND NOT ec.tested
ORDER BY ec.endpoint DESC;

COMMENT ON VIEW testing.untested_stable_endpoint IS
  'Stable endpoints of the latest release that no test hits, and whether they are eligible for conformance';
COMMENT ON COLUMN testing.untested_stable_endpoint.release IS 'The latest release, X.Y.Z';
COMMENT ON COLUMN testing.untested_stable_endpoint.endpoint IS 'The operationId';
COMMENT ON COLUMN testing.untested_stable_endpoint.level IS 'Always stable';
COMMENT ON COLUMN testing.untested_stable_endpoint.category IS 'First tag up to its first underscore, roughly the API group';
COMMENT ON COLUMN testing.untested_stable_endpoint.path IS 'Path template of the endpoint';
COMMENT ON COLUMN testing.untested_stable_endpoint.description IS 'The operation''s description';
COMMENT ON COLUMN testing.untested_stable_endpoint.kind IS 'Kubernetes kind (x-kubernetes-group-version-kind)';
COMMENT ON COLUMN testing.untested_stable_endpoint.version IS 'Kubernetes API version';
COMMENT ON COLUMN testing.untested_stable_endpoint."group" IS 'Kubernetes API group ('''' for core)';
COMMENT ON COLUMN testing.untested_stable_endpoint.action IS 'x-kubernetes-action, roughly the HTTP method';
COMMENT ON COLUMN testing.untested_stable_endpoint.tested IS 'Always false: no test user agent hit it';
COMMENT ON COLUMN testing.untested_stable_endpoint.conf_tested IS 'Hit by a [Conformance] user agent that is not an e2e.test one (normally false)';
COMMENT ON COLUMN testing.untested_stable_endpoint.tests IS 'Always empty';
COMMENT ON COLUMN testing.untested_stable_endpoint.eligible IS 'Listed in conformance.eligible_endpoint';
