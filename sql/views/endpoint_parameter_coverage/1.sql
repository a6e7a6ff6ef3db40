-- Depth coverage of query parameters (docs/depth.md): every query parameter each
-- operation declares, in each release whose runs logged events, with the events that
-- named it; and the parameters events named that the operation does not declare
-- (location null; $more counts the names past the 100 listed per endpoint and run).
-- Reads the spec's endpoint_parameter and the summary release_param_hit, never
-- audit_event.

CREATE VIEW endpoint_parameter_coverage AS
WITH seen AS (
  SELECT h.release, h.endpoint, h.parameter, sum(h.hits)::bigint AS hits,
         sum(h.test_hits)::bigint AS test_hits, sum(h.conf_hits)::bigint AS conf_hits
  FROM release_param_hit h
  GROUP BY h.release, h.endpoint, h.parameter
), seen_tests AS (
  -- a behaviour-selecting parameter has a row per value: its tests united
  SELECT h.release, h.endpoint, h.parameter, array_agg(DISTINCT t ORDER BY t) AS tests
  FROM release_param_hit h
  CROSS JOIN LATERAL unnest(h.tests) AS t
  GROUP BY h.release, h.endpoint, h.parameter
), declared AS (
  SELECT p.release, p.endpoint, p.parameter, p.location, p.required
  FROM endpoint_parameter p
  JOIN release_with_events r ON r.release = p.release
  WHERE p.location = 'query'
)
SELECT coalesce(d.release, s.release) AS release,
       coalesce(d.endpoint, s.endpoint) AS endpoint,
       coalesce(d.parameter, s.parameter) AS parameter,
       d.location,
       d.required,
       coalesce(s.hits, 0) AS hits,
       coalesce(s.test_hits, 0) AS test_hits,
       coalesce(s.conf_hits, 0) AS conf_hits,
       coalesce(t.tests, '{}') AS tests
FROM declared d
FULL JOIN seen s
  ON s.release = d.release AND s.endpoint = d.endpoint AND s.parameter = d.parameter
LEFT JOIN seen_tests t
  ON t.release = s.release AND t.endpoint = s.endpoint AND t.parameter = s.parameter;

COMMENT ON VIEW endpoint_parameter_coverage IS
  'Per release with events, operation and query parameter (declared, or named by events without being declared): the events that named it';
COMMENT ON COLUMN endpoint_parameter_coverage.release IS 'Release of the spec and of the runs, X.Y.Z';
COMMENT ON COLUMN endpoint_parameter_coverage.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_parameter_coverage.parameter IS 'Query parameter name ($more: names past the 100 undeclared ones listed per endpoint and run)';
COMMENT ON COLUMN endpoint_parameter_coverage.location IS 'query when the operation declares it; null when events named it but the spec does not declare it';
COMMENT ON COLUMN endpoint_parameter_coverage.required IS 'The spec says it is required (null: not declared)';
COMMENT ON COLUMN endpoint_parameter_coverage.hits IS 'Events of the release that named it';
COMMENT ON COLUMN endpoint_parameter_coverage.test_hits IS 'Of them, from e2e.test user agents';
COMMENT ON COLUMN endpoint_parameter_coverage.conf_hits IS 'Of them, from [Conformance] user agents';
COMMENT ON COLUMN endpoint_parameter_coverage.tests IS 'Distinct names of the tests whose events named it, sorted; empty when none';
