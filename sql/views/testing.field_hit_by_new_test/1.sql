-- testing.endpoint_hit_by_new_test one level down: the fields that request
-- bodies of a test being written (user agent live...) set, and whether CI tests
-- and conformance tests of the latest release already set them. The fields it
-- newly covers for conformance: WHERE known AND NOT hit_by_conformance.

CREATE VIEW testing.field_hit_by_new_test AS
WITH live AS (
  SELECT useragent, endpoint, field, known, sum(hits)::bigint AS hits
  FROM testing.field_hit
  WHERE useragent LIKE 'live%'
  GROUP BY useragent, endpoint, field, known
)
SELECT l.useragent,
       l.endpoint,
       l.field,
       l.known,
       coalesce(h.tested, false) AS hit_by_ete,
       coalesce(h.conf_tested, false) AS hit_by_conformance,
       l.hits AS hit_by_new_test
FROM live l
LEFT JOIN release_field_hit h
  ON h.release = (SELECT latest_release()) AND h.endpoint = l.endpoint
 AND h.field = l.field AND h.known = l.known;

COMMENT ON VIEW testing.field_hit_by_new_test IS
  'Request-body fields set by live user agents (live...) and whether the latest release''s CI tests already set them';
COMMENT ON COLUMN testing.field_hit_by_new_test.useragent IS 'The live user agent, e.g. live-test-writing';
COMMENT ON COLUMN testing.field_hit_by_new_test.endpoint IS 'The operationId';
COMMENT ON COLUMN testing.field_hit_by_new_test.field IS 'Field path';
COMMENT ON COLUMN testing.field_hit_by_new_test.known IS 'In the endpoint''s body schema of the newest spec (false: not in it)';
COMMENT ON COLUMN testing.field_hit_by_new_test.hit_by_ete IS 'Already set by a test user agent in the latest release''s runs';
COMMENT ON COLUMN testing.field_hit_by_new_test.hit_by_conformance IS 'Already set by a [Conformance] user agent in the latest release''s runs';
COMMENT ON COLUMN testing.field_hit_by_new_test.hit_by_new_test IS 'Number of live bodies of this user agent that set it';
