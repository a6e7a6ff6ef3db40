-- endpoint_coverage one level down: every field of the request body of every
-- non-deprecated endpoint that takes one, in every loaded release, with whether
-- that release's runs set it. Reads the spec's body_schema and body_field and the per-release
-- summary of endpoint_field_hit, never audit_event. No ORDER BY: a query for one
-- endpoint orders by position itself, and `select *` over every release would
-- otherwise sort millions of rows.

CREATE VIEW endpoint_field_coverage AS
SELECT b.release,
       b.endpoint,
       f.field,
       coalesce(h.tested, false) AS tested,
       coalesce(h.conf_tested, false) AS conf_tested,
       coalesce(h.tests, '{}') AS tests,
       f.type,
       f.recursion,
       f.parent,
       f.leaf,
       f.position,
       coalesce(h.hits, 0) AS hits,
       b.definition,
       f.ref
FROM endpoint_body b
JOIN open_api o ON o.release = b.release AND o.endpoint = b.endpoint AND NOT o.deprecated
JOIN body_schema s ON s.release = b.release AND s.definition = b.definition
JOIN body_field f ON f.digest = s.digest
LEFT JOIN release_field_hit h
  ON h.release = b.release AND h.endpoint = b.endpoint AND h.field = f.field AND h.known;

COMMENT ON VIEW endpoint_field_coverage IS
  'Coverage of every request-body field of every non-deprecated endpoint in each release, from that release''s request bodies';
COMMENT ON COLUMN endpoint_field_coverage.release IS 'Release of the spec and of the runs, X.Y.Z';
COMMENT ON COLUMN endpoint_field_coverage.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_field_coverage.field IS 'Dotted path from the body: spec.containers[].image ([] an array of objects, {} a map of objects)';
COMMENT ON COLUMN endpoint_field_coverage.tested IS 'Set by a request body from a test (e2e.test) user agent in this release';
COMMENT ON COLUMN endpoint_field_coverage.conf_tested IS 'Set by a request body from a [Conformance] user agent in this release';
COMMENT ON COLUMN endpoint_field_coverage.tests IS 'Distinct names of the tests whose bodies set it, sorted; empty when none';
COMMENT ON COLUMN endpoint_field_coverage.type IS 'object, array (of objects), map (of objects), or a leaf type (body_field.type)';
COMMENT ON COLUMN endpoint_field_coverage.recursion IS 'The schema is cut here (its definition recurs on its own path); setting anything beneath sets this field';
COMMENT ON COLUMN endpoint_field_coverage.parent IS 'Path of the field holding it, '''' at the top';
COMMENT ON COLUMN endpoint_field_coverage.leaf IS 'Has no fields of its own listed';
COMMENT ON COLUMN endpoint_field_coverage.position IS 'Order in the field tree (parents first, siblings by name)';
COMMENT ON COLUMN endpoint_field_coverage.hits IS 'Number of bodies (any user agent) that set it';
COMMENT ON COLUMN endpoint_field_coverage.definition IS 'The body''s definition in the spec';
COMMENT ON COLUMN endpoint_field_coverage.ref IS 'The definition of the field''s value (or items), if any; where recursion is set, the one that recurs';
