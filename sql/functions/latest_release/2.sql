-- latest_release() version 2: the same body, run with search_path = public.
-- conformance.eligible_endpoint calls it and conformance.eligible_endpoint_coverage
-- is materialized since revision 0007: PostgreSQL 17 and later refresh materialized
-- views with search_path = pg_catalog, pg_temp, where version 1's unqualified
-- open_api and release_key() are not found. Views call it once per query (a scalar
-- subquery), so losing inlining to the SET clause costs nothing.

ALTER FUNCTION latest_release() SET search_path = public, pg_temp;
