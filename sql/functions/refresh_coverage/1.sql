-- Loaders call refresh_coverage() at the end of any load that writes endpoint_hit
-- (audit events, history import), in the same transaction, so the coverage views
-- never show a half-loaded run.

CREATE FUNCTION refresh_coverage() RETURNS void
LANGUAGE sql AS $$
  REFRESH MATERIALIZED VIEW release_endpoint_hit;
  REFRESH MATERIALIZED VIEW release_test_hit;
  REFRESH MATERIALIZED VIEW endpoint_test_hit;
$$;
COMMENT ON FUNCTION refresh_coverage() IS
  'Recompute the summaries of endpoint_hit the coverage views read; call after every load of endpoint_hit';
