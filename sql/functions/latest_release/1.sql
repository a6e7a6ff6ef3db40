-- The newest release in open_api by semantic version: what snoopDB's views call
-- "the latest release" (it writes `order by release::semver desc limit 1`).
-- Views call it as a scalar subquery, `(SELECT latest_release())`, so it runs once
-- per query rather than once per row of a filtered scan.

CREATE FUNCTION latest_release() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT release
  FROM (SELECT DISTINCT release FROM open_api) AS loaded
  ORDER BY release_key(release) DESC NULLS LAST
  LIMIT 1
$$;
COMMENT ON FUNCTION latest_release() IS
  'Newest release in open_api by semantic version (1.10.0 after 1.9.0); null when no spec is loaded';
