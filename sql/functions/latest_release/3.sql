-- latest_release() version 3 (revision 0012): the newest release with coverage data
-- (hits from CI runs or imported published coverage, release_endpoint_hit) among the
-- releases whose spec is loaded; the newest spec only while no release has data.
-- Version 2 took the newest spec whatever its data: a spec loaded with none (a release
-- typed by mistake, one just entering development) made
-- testing.untested_stable_endpoint return no rows, as if everything were tested, and
-- the gate undecided. Reads release_endpoint_hit, so it follows refresh_coverage().
-- Names stay schema-qualified and search_path set: materialized views call it
-- (through conformance.eligible_endpoint), and PostgreSQL 17 and later refresh those
-- with search_path = pg_catalog, pg_temp.

CREATE OR REPLACE FUNCTION latest_release() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = public, pg_temp AS $$
  SELECT loaded.release
  FROM (SELECT DISTINCT release FROM public.open_api) AS loaded
  ORDER BY EXISTS (SELECT FROM public.release_endpoint_hit h WHERE h.release = loaded.release) DESC,
           public.release_key(loaded.release) DESC NULLS LAST
  LIMIT 1
$$;
COMMENT ON FUNCTION latest_release() IS
  'The release the views call the latest: the newest release in open_api (by semantic version) that has coverage data (CI runs or imported published coverage), else the newest in open_api; null when no spec is loaded';
