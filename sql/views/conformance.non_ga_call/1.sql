-- Conformance tests calling alpha or beta operations (kubernetes/kubernetes#78605):
-- conformance tests should use GA APIs only. Per release, test and operation, from
-- the runs' hit summaries (run_hit, run_test), never audit_event; `snoopdb gate
-- --ga-only` fails on any row of the release it gates.

CREATE VIEW conformance.non_ga_call AS
SELECT r.release, t.name AS test, h.endpoint, o.level, sum(h.hits)::bigint AS hits
FROM run_hit h
JOIN audit_run r ON r.run = h.run
JOIN run_test t ON t.run = h.run AND t.test = h.test
JOIN open_api o ON o.release = r.release AND o.endpoint = h.endpoint
WHERE h.conf_test_hit AND o.level <> 'stable'
GROUP BY r.release, t.name, h.endpoint, o.level;

COMMENT ON VIEW conformance.non_ga_call IS
  'Calls of alpha or beta operations by [Conformance] user agents, per release, test and operation';
COMMENT ON COLUMN conformance.non_ga_call.release IS 'Release of the runs, X.Y.Z';
COMMENT ON COLUMN conformance.non_ga_call.test IS 'The conformance test (its user agent''s test name)';
COMMENT ON COLUMN conformance.non_ga_call.endpoint IS 'The operationId it called';
COMMENT ON COLUMN conformance.non_ga_call.level IS 'alpha or beta';
COMMENT ON COLUMN conformance.non_ga_call.hits IS 'Its calls';
