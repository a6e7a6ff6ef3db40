-- snoopDB's endpoint_coverage: every non-deprecated endpoint of every loaded
-- release with whether that release's runs tested it. Reads the per-release
-- summary of endpoint_hit, never audit_event.

CREATE VIEW endpoint_coverage AS
SELECT o.release,
       o.endpoint,
       o.level,
       o.category,
       o.path,
       o.description,
       o.k8s_kind AS kind,
       o.k8s_version AS version,
       o.k8s_group AS "group",
       o.k8s_action AS action,
       coalesce(h.tested, false) AS tested,
       coalesce(h.conf_tested, false) AS conf_tested,
       coalesce(h.tests, '{}') AS tests
FROM open_api o
JOIN release_order r ON r.release = o.release
LEFT JOIN release_endpoint_hit h ON h.release = o.release AND h.endpoint = o.endpoint
WHERE NOT o.deprecated
-- snoopDB's order (stable first, then by name); release breaks its ties.
ORDER BY o.level DESC, o.endpoint, r.sort_key;

COMMENT ON VIEW endpoint_coverage IS
  'Coverage of every non-deprecated endpoint in each release, from that release''s audit events';
COMMENT ON COLUMN endpoint_coverage.release IS 'Release of the spec and of the runs, X.Y.Z';
COMMENT ON COLUMN endpoint_coverage.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_coverage.level IS 'alpha, beta or stable';
COMMENT ON COLUMN endpoint_coverage.category IS 'First tag up to its first underscore, roughly the API group';
COMMENT ON COLUMN endpoint_coverage.path IS 'Path template of the endpoint';
COMMENT ON COLUMN endpoint_coverage.description IS 'The operation''s description';
COMMENT ON COLUMN endpoint_coverage.kind IS 'Kubernetes kind (x-kubernetes-group-version-kind)';
COMMENT ON COLUMN endpoint_coverage.version IS 'Kubernetes API version';
COMMENT ON COLUMN endpoint_coverage."group" IS 'Kubernetes API group ('''' for core)';
COMMENT ON COLUMN endpoint_coverage.action IS 'x-kubernetes-action, roughly the HTTP method';
COMMENT ON COLUMN endpoint_coverage.tested IS 'Hit at least once by a test (e2e.test) user agent in this release';
COMMENT ON COLUMN endpoint_coverage.conf_tested IS 'Hit at least once by a [Conformance] user agent in this release';
COMMENT ON COLUMN endpoint_coverage.tests IS 'Distinct names of the tests that hit it in this release, sorted; empty when none';
