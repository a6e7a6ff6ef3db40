-- snoopDB's describe_* functions: the database documents itself from psql
-- (`select * from describe_relations();`). Built on pg_class/pg_attribute rather
-- than information_schema so that materialized views are listed and relations of
-- the same name in two schemas (audit_event, testing.audit_event) stay apart.

CREATE FUNCTION describe_relations(OUT schema text, OUT name text, OUT description text)
RETURNS SETOF record
LANGUAGE sql STABLE AS $$
  SELECT n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname IN ('public', 'conformance', 'testing')
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    -- Alembic's bookkeeping, not snoopdb data.
    AND NOT (n.nspname = 'public' AND c.relname = 'alembic_version')
  ORDER BY n.nspname DESC, c.relname
$$;
COMMENT ON FUNCTION describe_relations() IS
  'Every table and view of the public, conformance and testing schemas with its one-line description';

CREATE FUNCTION describe_relation(schema text, relation text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT obj_description(format('%I.%I', schema, relation)::regclass, 'pg_class')
$$;
COMMENT ON FUNCTION describe_relation(text, text) IS
  'The one-line description of a relation, given its schema and name';

CREATE FUNCTION describe_columns(schema text, relation text, OUT "column" text, OUT description text)
RETURNS SETOF record
LANGUAGE sql STABLE AS $$
  SELECT a.attname::text, col_description(a.attrelid, a.attnum)
  FROM pg_attribute a
  WHERE a.attrelid = to_regclass(format('%I.%I', schema, relation))
    AND a.attnum > 0
    AND NOT a.attisdropped
  ORDER BY a.attnum
$$;
COMMENT ON FUNCTION describe_columns(text, text) IS
  'The columns of a relation, in order, with their one-line descriptions';

CREATE FUNCTION describe_column(schema text, relation text, col text, OUT "column" text, OUT description text)
RETURNS SETOF record
LANGUAGE sql STABLE AS $$
  SELECT "column", description
  FROM describe_columns(schema, relation)
  WHERE "column" = col
$$;
COMMENT ON FUNCTION describe_column(text, text, text) IS
  'The one-line description of one column, given schema, relation and column name';
