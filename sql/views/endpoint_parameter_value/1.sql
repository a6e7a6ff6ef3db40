-- The values events gave the query parameters that select behaviour (dryRun,
-- propagationPolicy, watch, fieldValidation, resourceVersionMatch, sendInitialEvents,
-- orphanDependents, force), per release and operation (docs/depth.md).

CREATE VIEW endpoint_parameter_value AS
SELECT h.release, h.endpoint, h.parameter, h.value, h.hits, h.conf_hits
FROM release_param_hit h
WHERE h.value IS NOT NULL;

COMMENT ON VIEW endpoint_parameter_value IS
  'Per release, operation, behaviour-selecting query parameter and value: the events that gave it';
COMMENT ON COLUMN endpoint_parameter_value.release IS 'Release of the runs, X.Y.Z';
COMMENT ON COLUMN endpoint_parameter_value.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_parameter_value.parameter IS 'dryRun, propagationPolicy, watch, fieldValidation, resourceVersionMatch, sendInitialEvents, orphanDependents or force';
COMMENT ON COLUMN endpoint_parameter_value.value IS 'The value as sent, decoded (cut to 64 bytes, then …; $more: values past the 20 listed per parameter, endpoint and run)';
COMMENT ON COLUMN endpoint_parameter_value.hits IS 'Events that gave it';
COMMENT ON COLUMN endpoint_parameter_value.conf_hits IS 'Of them, from [Conformance] user agents';
