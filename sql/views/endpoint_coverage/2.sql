-- snoopDB's endpoint_coverage: every non-deprecated endpoint of every loaded
-- release with whether that release's runs tested it. Reads the per-release
-- summary of endpoint_hit, never audit_event.
-- Version 2: in a release with no coverage data at all (no runs, no imported
-- published file: release_coverage says 'no data'), tested and conf_tested are
-- null — unknown — instead of false for every endpoint.

CREATE OR REPLACE VIEW endpoint_coverage AS
WITH covered AS MATERIALIZED (
  SELECT DISTINCT release FROM release_endpoint_hit
)
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
       CASE WHEN c.release IS NOT NULL THEN coalesce(h.tested, false) END AS tested,
       CASE WHEN c.release IS NOT NULL THEN coalesce(h.conf_tested, false) END AS conf_tested,
       coalesce(h.tests, '{}') AS tests
FROM open_api o
JOIN release_order r ON r.release = o.release
LEFT JOIN covered c ON c.release = o.release
LEFT JOIN release_endpoint_hit h ON h.release = o.release AND h.endpoint = o.endpoint
WHERE NOT o.deprecated
-- snoopDB's order (stable first, then by name); release breaks its ties.
ORDER BY o.level DESC, o.endpoint, r.sort_key;

COMMENT ON VIEW endpoint_coverage IS
  'Coverage of every non-deprecated endpoint in each release, from that release''s audit events (or imported published coverage)';
COMMENT ON COLUMN endpoint_coverage.tested IS
  'Hit at least once by a test (e2e.test) user agent in this release; null when the release has no coverage data';
COMMENT ON COLUMN endpoint_coverage.conf_tested IS
  'Hit at least once by a [Conformance] user agent in this release; null when the release has no coverage data';
