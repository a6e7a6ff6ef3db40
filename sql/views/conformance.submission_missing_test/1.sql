-- conformance.submission_missing_test as revision 0005 made it: the required tests of
-- each verified submission that none of its conformance testcases passed.
CREATE OR REPLACE VIEW conformance.submission_missing_test AS
SELECT s.id AS submission_id,
       s.name AS submission,
       s.release,
       t.codename,
       t.testname,
       CASE
         WHEN bool_or(c.status = 'failed') THEN 'failed'
         WHEN bool_or(c.status = 'errored') THEN 'errored'
         WHEN bool_or(c.status = 'skipped') THEN 'skipped'
         ELSE 'missing'
       END AS status
FROM conformance.submission s
JOIN conformance.release_test t
  ON t.release = s.release AND release_key(t.first_release) <= release_key(s.release)
LEFT JOIN conformance.submission_testcase c
  ON c.submission_id = s.id AND c.conformance AND c.name = t.codename
WHERE s.result <> 'unprocessable'
GROUP BY s.id, s.name, s.release, t.codename, t.testname
HAVING NOT coalesce(bool_or(c.status = 'passed'), false);
