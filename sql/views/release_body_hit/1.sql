-- Bodies seen per (release, endpoint), materialized beside release_field_hit so
-- that field_coverage_summary tells an endpoint no body was logged for from one
-- whose bodies left fields unset.

CREATE MATERIALIZED VIEW release_body_hit AS
SELECT release,
       endpoint,
       sum(bodies)::bigint AS bodies,
       (sum(bodies) FILTER (WHERE test_hit))::bigint AS test_bodies,
       (sum(bodies) FILTER (WHERE conf_test_hit))::bigint AS conf_bodies
FROM endpoint_body_hit
GROUP BY release, endpoint;

CREATE UNIQUE INDEX release_body_hit_key ON release_body_hit (release, endpoint);
COMMENT ON MATERIALIZED VIEW release_body_hit IS
  'Per release and endpoint: audit events that carried a request body (from endpoint_body_hit; refresh_coverage() refreshes it)';
COMMENT ON COLUMN release_body_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_body_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN release_body_hit.bodies IS 'Events with a request body';
COMMENT ON COLUMN release_body_hit.test_bodies IS 'Of them, from test (e2e.test) user agents';
COMMENT ON COLUMN release_body_hit.conf_bodies IS 'Of them, from [Conformance] user agents';
