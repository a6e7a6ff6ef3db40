-- An endpoint's depth panel: the values its requests passed to the parameters that
-- select behaviour (dryRun, propagationPolicy, watch, ...) in one release
-- (endpoint_parameter_value). Parameters: %(endpoint)s, %(release)s.
SELECT parameter,
       value,
       hits,
       conf_hits
FROM endpoint_parameter_value
WHERE endpoint = %(endpoint)s AND release = %(release)s
ORDER BY parameter COLLATE "C", value COLLATE "C";
