-- snoopDB's testing.endpoint_hit_by_new_test: what a test being written (user
-- agent live...) hit in the live cluster, and whether CI tests of the latest
-- release already hit it. Live events of endpoints outside the latest release's
-- endpoint_coverage (unmapped, deprecated) are left out, as in snoopDB.

CREATE VIEW testing.endpoint_hit_by_new_test AS
WITH live AS (
  SELECT useragent, endpoint, count(*) AS hits
  FROM testing.audit_event
  WHERE useragent LIKE 'live%'
  GROUP BY useragent, endpoint
)
SELECT l.useragent,
       l.endpoint,
       ec.tested AS hit_by_ete,
       l.hits AS hit_by_new_test
FROM live l
JOIN endpoint_coverage ec ON ec.endpoint = l.endpoint AND ec.release = (SELECT latest_release())
ORDER BY l.useragent, l.endpoint;

COMMENT ON VIEW testing.endpoint_hit_by_new_test IS
  'Endpoints hit by live user agents (live...) and whether the latest release''s CI tests already hit them';
COMMENT ON COLUMN testing.endpoint_hit_by_new_test.useragent IS 'The live user agent, e.g. live-test-writing';
COMMENT ON COLUMN testing.endpoint_hit_by_new_test.endpoint IS 'The operationId it hit';
COMMENT ON COLUMN testing.endpoint_hit_by_new_test.hit_by_ete IS 'Already hit by a test user agent in the latest release''s runs';
COMMENT ON COLUMN testing.endpoint_hit_by_new_test.hit_by_new_test IS 'Number of live events of this user agent on the endpoint';
