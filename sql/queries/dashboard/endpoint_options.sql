-- The choices of the endpoint table's filters: the categories, kinds and levels of
-- one release's endpoint_coverage. Parameter: %(release)s.
SELECT coalesce(array_agg(DISTINCT category COLLATE "C") FILTER (WHERE category IS NOT NULL),
                '{}') AS category,
       coalesce(array_agg(DISTINCT kind COLLATE "C") FILTER (WHERE kind IS NOT NULL),
                '{}') AS kind,
       coalesce(array_agg(DISTINCT level COLLATE "C"), '{}') AS level
FROM endpoint_coverage
WHERE release = %(release)s;
