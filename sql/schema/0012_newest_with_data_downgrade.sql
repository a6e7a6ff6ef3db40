-- Revision 0012 undone: latest_release() as versions 1 and 2 left it (the newest
-- spec, whatever its data) and endpoint_coverage.tests' comment as version 1 wrote it.

CREATE OR REPLACE FUNCTION latest_release() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = public, pg_temp AS $$
  SELECT release
  FROM (SELECT DISTINCT release FROM open_api) AS loaded
  ORDER BY release_key(release) DESC NULLS LAST
  LIMIT 1
$$;
COMMENT ON FUNCTION latest_release() IS
  'Newest release in open_api by semantic version (1.10.0 after 1.9.0); null when no spec is loaded';
COMMENT ON COLUMN endpoint_coverage.tests IS 'Distinct names of the tests that hit it in this release, sorted; empty when none';
