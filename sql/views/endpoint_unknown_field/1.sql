-- Paths that request bodies set but the endpoint's body schema of the release
-- does not have (a newer client, a typo, a field a webhook or CRD adds):
-- counted and listed rather than dropped.

CREATE VIEW endpoint_unknown_field AS
SELECT release, endpoint, field, hits, tested, conf_tested, tests
FROM release_field_hit
WHERE NOT known;

COMMENT ON VIEW endpoint_unknown_field IS
  'Paths set by request bodies that are not in the endpoint''s body schema of the release';
COMMENT ON COLUMN endpoint_unknown_field.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN endpoint_unknown_field.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_unknown_field.field IS 'The path set (the first step the schema does not have; nothing beneath it is listed)';
COMMENT ON COLUMN endpoint_unknown_field.hits IS 'Number of bodies that set it';
COMMENT ON COLUMN endpoint_unknown_field.tested IS 'Set by a test user agent';
COMMENT ON COLUMN endpoint_unknown_field.conf_tested IS 'Set by a [Conformance] user agent';
COMMENT ON COLUMN endpoint_unknown_field.tests IS 'Distinct test names whose bodies set it';
