-- The release whose coverage the conformance views read, as apisnoop computes its
-- published conformance-progress.json and conformance-coverage-per-release.json:
-- the newest release with coverage data (raw audit events or an imported published
-- file), whatever history is loaded besides. Reads release_endpoint_hit, so it
-- follows refresh_coverage().
-- Names are schema-qualified: materialized views call it (endpoint_test_hit), and
-- PostgreSQL 17 and later refresh those with search_path = pg_catalog, pg_temp.

CREATE FUNCTION coverage_release() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT release
  FROM (SELECT DISTINCT release FROM public.release_endpoint_hit) AS covered
  WHERE public.release_key(release) IS NOT NULL
  ORDER BY public.release_key(release) DESC
  LIMIT 1
$$;
COMMENT ON FUNCTION coverage_release() IS
  'Newest release with coverage data (audit events or imported published coverage): the one conformance.* views count test hits of; null when none has any';
