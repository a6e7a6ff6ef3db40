-- DuckDB: copy_text(x), a field of PostgreSQL's COPY text format read back as its text;
-- copy_json(x), the same for jsonb's text, which holds no control character (jsonb
-- writes them as JSON escapes): the only escape COPY writes in it is a doubled
-- backslash.
--
-- COPY writes a backslash as \\ and the control characters \b \f \n \r \t \v as
-- escapes, every other character as it is, so each backslash it writes starts a pair:
-- the pairs \\ are set aside first (as NUL, which no PostgreSQL text holds), the
-- other escapes undone, then the backslashes put back. A field with no backslash,
-- nearly every one, is left as it is.
CREATE MACRO copy_text(x) AS
  CASE WHEN contains(x, '\')
       THEN replace(replace(replace(replace(replace(replace(replace(replace(
              x, '\\', chr(0)), '\n', chr(10)), '\t', chr(9)), '\r', chr(13)),
              '\b', chr(8)), '\f', chr(12)), '\v', chr(11)), chr(0), '\')
       ELSE x
  END;

CREATE MACRO copy_json(x) AS
  CASE WHEN contains(x, '\') THEN replace(x, '\\', '\') ELSE x END
