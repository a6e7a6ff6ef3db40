-- Depth coverage of response status codes (docs/depth.md): every code each operation
-- declares, in each release whose runs logged events, and every code its events
-- were answered with, declared or not. Reads endpoint_response and the summary
-- release_status_hit, never audit_event.

CREATE VIEW endpoint_status_coverage AS
WITH declared AS (
  SELECT p.release, p.endpoint, p.code
  FROM endpoint_response p
  JOIN release_with_events r ON r.release = p.release
)
SELECT coalesce(d.release, s.release) AS release,
       coalesce(d.endpoint, s.endpoint) AS endpoint,
       coalesce(d.code, s.code) AS code,
       d.code IS NOT NULL AS declared,
       coalesce(s.hits, 0) AS hits,
       coalesce(s.conf_hits, 0) AS conf_hits
FROM declared d
FULL JOIN release_status_hit s
  ON s.release = d.release AND s.endpoint = d.endpoint AND s.code = d.code;

COMMENT ON VIEW endpoint_status_coverage IS
  'Per release with events and operation: every status code it declares and every code its events were answered with';
COMMENT ON COLUMN endpoint_status_coverage.release IS 'Release of the spec and of the runs, X.Y.Z';
COMMENT ON COLUMN endpoint_status_coverage.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_status_coverage.code IS 'HTTP status code (100-599), or $invalid: events whose responseStatus.code was another number or not one';
COMMENT ON COLUMN endpoint_status_coverage.declared IS 'The spec declares it for the operation';
COMMENT ON COLUMN endpoint_status_coverage.hits IS 'Events of the release answered with it';
COMMENT ON COLUMN endpoint_status_coverage.conf_hits IS 'Of them, from [Conformance] user agents';
