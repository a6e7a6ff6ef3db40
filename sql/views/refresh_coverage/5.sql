-- Version 5 (revision 0014): a release's summaries also say, per run, which endpoints
-- it hit (release_run_hit), and per job, in how many runs each test ran and hit each
-- endpoint (release_test_endpoint_hit): what the stability views read. The rest is
-- version 4's (refresh_release_coverage and refresh_coverage call this function).

-- work_mem for the time of the function: the aggregates over every run of a release
-- sort a few hundred thousand rows, which spill to disk at the default 4 MB.
CREATE OR REPLACE FUNCTION release_summaries_rewrite(rel text) RETURNS void
LANGUAGE plpgsql SET work_mem = '128MB' AS $$
DECLARE
  runs text;
  summary record;
  part text;
BEGIN
  SELECT string_agg(run::text, ', ' ORDER BY run) INTO runs FROM public.audit_run WHERE release = rel;
  FOR summary IN SELECT * FROM (VALUES
    ('release_endpoint_hit', $q$
      SELECT %1$L, h.endpoint, bool_or(h.test_hit), bool_or(h.conf_test_hit),
             coalesce(array_agg(DISTINCT t.name ORDER BY t.name)
                        FILTER (WHERE t.name IS NOT NULL), '{}')
      FROM public.run_hit h
      LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
      WHERE h.run IN (%2$s)
      GROUP BY h.endpoint$q$),
    ('release_test_hit', $q$
      SELECT DISTINCT %1$L, t.name FROM public.run_test t WHERE t.run IN (%2$s)$q$),
    ('release_field_hit', $q$
      SELECT %1$L, h.endpoint, h.field, h.known, bool_or(h.test_hit), bool_or(h.conf_test_hit),
             coalesce(array_agg(DISTINCT t.name ORDER BY t.name)
                        FILTER (WHERE t.name IS NOT NULL), '{}'),
             sum(h.hits)::bigint
      FROM public.run_field_hit h
      LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
      WHERE h.run IN (%2$s)
      GROUP BY h.endpoint, h.field, h.known$q$),
    ('release_body_hit', $q$
      SELECT %1$L, endpoint, sum(bodies)::bigint,
             (sum(bodies) FILTER (WHERE test_hit))::bigint,
             (sum(bodies) FILTER (WHERE conf_test_hit))::bigint
      FROM public.run_body_hit
      WHERE run IN (%2$s)
      GROUP BY endpoint$q$),
    ('release_run_hit', $q$
      SELECT %1$L, run, endpoint, bool_or(test_hit), bool_or(conf_test_hit)
      FROM public.run_hit
      WHERE run IN (%2$s)
      GROUP BY run, endpoint$q$),
    -- per job, each test's runs and the runs in which it hit each endpoint; test names
    -- numbered once for all runs first, so that the aggregate over every run's rows
    -- groups numbers, not names
    ('release_test_endpoint_hit', $q$
      WITH name AS MATERIALIZED (
        SELECT name, row_number() OVER () AS id
        FROM (SELECT DISTINCT name FROM public.run_test WHERE run IN (%2$s)) AS distinct_name
      ), ran AS MATERIALIZED (
        SELECT t.run, t.test, r.job, n.id
        FROM public.run_test t
        JOIN public.audit_run r ON r.run = t.run
        JOIN name n ON n.name = t.name
        WHERE t.run IN (%2$s)
      ), hit AS (
        SELECT ran.job, ran.id, h.endpoint, count(DISTINCT h.run)::integer AS runs
        FROM public.run_hit h
        JOIN ran ON ran.run = h.run AND ran.test = h.test
        WHERE h.run IN (%2$s)
        GROUP BY ran.job, ran.id, h.endpoint
      ), runs_ran AS (
        SELECT job, id, count(*)::integer AS runs FROM ran GROUP BY job, id
      )
      SELECT %1$L, hit.job, n.name, hit.endpoint, runs_ran.runs, hit.runs
      FROM hit
      JOIN runs_ran USING (job, id)
      JOIN name n USING (id)$q$)) AS s(name, query)
  LOOP
    part := public.release_partition(summary.name, rel);
    EXECUTE format('DROP TABLE IF EXISTS summaries.%I', part);
    CONTINUE WHEN runs IS NULL;
    EXECUTE format('CREATE TABLE summaries.%I PARTITION OF public.%I FOR VALUES IN (%L)',
                   part, summary.name, rel);
    EXECUTE format('INSERT INTO summaries.%I ', part) || format(summary.query, rel, runs);
    EXECUTE format('ANALYZE summaries.%I', part);
  END LOOP;
END
$$;
COMMENT ON FUNCTION release_summaries_rewrite(text) IS
  'Write release rel''s partitions of the per-release summaries afresh from its runs (none when it has no runs)';
