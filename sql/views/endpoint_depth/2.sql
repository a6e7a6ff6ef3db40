-- How deeply each operation of each release is conformance-tested, version 2
-- (revision 0020): as version 1 (docs/depth.md), with its level and eligibility those
-- of endpoint_eligibility, the one rule every consumer reads (a group's discovery
-- operation at its group's most stable version; pending endpoints not eligible).
-- depth:
--   untested  no conformance test called it;
--   full      conformance-tested, and conformance tests named every declared query
--             parameter but `pretty` and set every declared body field;
--   partial   conformance-tested, something left out.
-- Reads the spec's tables and the per-release summaries, never audit_event.

CREATE OR REPLACE VIEW endpoint_depth AS
WITH covered AS MATERIALIZED (
  SELECT DISTINCT release FROM release_endpoint_hit
), declaring AS MATERIALIZED (
  -- every operation of a spec declares a response: none stored, the spec predates 0019
  SELECT DISTINCT release FROM endpoint_response
), params AS (
  SELECT p.release, p.endpoint, count(*) AS declared,
         count(*) FILTER (WHERE EXISTS (
           SELECT FROM release_param_hit h
           WHERE h.release = p.release AND h.endpoint = p.endpoint
             AND h.parameter = p.parameter AND h.conf_hits > 0)) AS conf_hit
  FROM endpoint_parameter p
  WHERE p.location = 'query' AND p.parameter <> 'pretty'
  GROUP BY p.release, p.endpoint
), codes AS (
  SELECT s.release, s.endpoint,
         count(*) FILTER (WHERE s.conf_hits > 0) AS conf_seen,
         count(*) FILTER (WHERE s.conf_hits > 0 AND s.code >= '400' AND s.code < '600')
           AS error_conf_seen
  FROM release_status_hit s
  GROUP BY s.release, s.endpoint
), fields AS (
  SELECT b.release, b.endpoint, d.fields AS declared
  FROM endpoint_body b
  JOIN body_schema d ON d.release = b.release AND d.definition = b.definition
), fields_set AS (
  SELECT h.release, h.endpoint, count(*) AS conf_set
  FROM release_field_hit h
  WHERE h.known AND h.conf_tested
  GROUP BY h.release, h.endpoint
), counted AS (
  SELECT o.release,
         o.endpoint,
         el.level,
         el.eligible,
         CASE WHEN c.release IS NOT NULL THEN coalesce(h.conf_tested, false) END AS conf_tested,
         e.release IS NOT NULL AND d.release IS NOT NULL AS with_events,
         d.release IS NOT NULL AS declares,
         coalesce(p.declared, 0) AS params_declared,
         coalesce(p.conf_hit, 0) AS params_conf_hit,
         coalesce(k.conf_seen, 0) AS codes_conf_seen,
         coalesce(k.error_conf_seen, 0) AS error_codes_conf_seen,
         coalesce(f.declared, 0) AS fields_declared,
         coalesce(s.conf_set, 0) AS fields_conf_set
  FROM open_api o
  JOIN endpoint_eligibility el ON el.release = o.release AND el.endpoint = o.endpoint
  LEFT JOIN covered c ON c.release = o.release
  LEFT JOIN release_with_events e ON e.release = o.release
  LEFT JOIN declaring d ON d.release = o.release
  LEFT JOIN release_endpoint_hit h ON h.release = o.release AND h.endpoint = o.endpoint
  LEFT JOIN params p ON p.release = o.release AND p.endpoint = o.endpoint
  LEFT JOIN codes k ON k.release = o.release AND k.endpoint = o.endpoint
  LEFT JOIN fields f ON f.release = o.release AND f.endpoint = o.endpoint
  LEFT JOIN fields_set s ON s.release = o.release AND s.endpoint = o.endpoint
)
SELECT release,
       endpoint,
       level,
       eligible,
       conf_tested,
       CASE WHEN declares THEN params_declared END AS params_declared,
       CASE WHEN with_events THEN params_conf_hit END AS params_conf_hit,
       CASE WHEN with_events THEN codes_conf_seen END AS codes_conf_seen,
       CASE WHEN with_events THEN error_codes_conf_seen END AS error_codes_conf_seen,
       fields_declared,
       CASE WHEN with_events THEN fields_conf_set END AS fields_conf_set,
       CASE WHEN NOT with_events THEN NULL
            WHEN NOT conf_tested THEN 'untested'
            WHEN params_conf_hit >= params_declared AND fields_conf_set >= fields_declared
              THEN 'full'
            ELSE 'partial' END AS depth
FROM counted;

COMMENT ON VIEW endpoint_depth IS
  'Per release and operation: its declared query parameters, status codes and body fields against those conformance tests exercised, and its depth (untested, partial, full)';
COMMENT ON COLUMN endpoint_depth.release IS 'Release of the spec and of the runs, X.Y.Z';
COMMENT ON COLUMN endpoint_depth.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_depth.level IS 'stable, beta or alpha, as endpoint_eligibility judges it';
COMMENT ON COLUMN endpoint_depth.eligible IS 'Conformance tests must cover it, as endpoint_eligibility says';
COMMENT ON COLUMN endpoint_depth.conf_tested IS 'Called by a [Conformance] user agent (null: the release has no coverage data)';
COMMENT ON COLUMN endpoint_depth.params_declared IS 'Query parameters it declares, pretty aside (null: its spec was loaded before revision 0019)';
COMMENT ON COLUMN endpoint_depth.params_conf_hit IS 'Of them, named by a [Conformance] user agent''s event (null: the release has no events)';
COMMENT ON COLUMN endpoint_depth.codes_conf_seen IS 'Distinct status codes [Conformance] user agents'' events were answered with, declared or not (null: no events)';
COMMENT ON COLUMN endpoint_depth.error_codes_conf_seen IS 'Of them, 400-599 (null: no events)';
COMMENT ON COLUMN endpoint_depth.fields_declared IS 'Fields of its request body schema (0: no body)';
COMMENT ON COLUMN endpoint_depth.fields_conf_set IS 'Of them, set by a [Conformance] user agent''s body (null: no events)';
COMMENT ON COLUMN endpoint_depth.depth IS 'untested: no conformance test called it; full: conformance-tested, every declared query parameter but pretty named and every body field set by conformance tests; partial: the rest conformance-tested; null: the release has no events, or its spec was loaded before revision 0019';
