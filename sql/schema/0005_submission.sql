-- Certification submissions (revision 0005): each release's conformance list, and
-- the results of `snoopdb verify-submission` — submissions, their junit testcases
-- and their checks — so psql can answer "which submissions miss which tests".
-- Releases are X.Y.Z, as everywhere else in the database.

CREATE TABLE conformance.release_test (
  release text NOT NULL,
  codename text NOT NULL,
  testname text,
  first_release text NOT NULL,
  last_release text NOT NULL,
  description text,
  file text,
  PRIMARY KEY (release, codename)
);
COMMENT ON TABLE conformance.release_test IS
  'Conformance tests of each release branch''s conformance.yaml (release-X.Y), one row per release and test; conformance.test keeps only the newest list';
COMMENT ON COLUMN conformance.release_test.release IS 'Release whose conformance.yaml lists the test, X.Y.Z';
COMMENT ON COLUMN conformance.release_test.codename IS 'Full test name, as junit_01.xml testcases carry it (without "[It] ")';
COMMENT ON COLUMN conformance.release_test.testname IS 'Short name of the test';
COMMENT ON COLUMN conformance.release_test.first_release IS
  'First release listed in the test''s release: field (v1.9, v1.18 -> 1.9.0): submissions for this release or later must pass it';
COMMENT ON COLUMN conformance.release_test.last_release IS
  'Last release listed (v1.9, v1.18 -> 1.18.0), as conformance.test.release has it';
COMMENT ON COLUMN conformance.release_test.description IS 'What the test checks';
COMMENT ON COLUMN conformance.release_test.file IS 'Source file of the test in kubernetes/kubernetes';

CREATE TABLE conformance.submission (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  release text NOT NULL,
  product text NOT NULL,
  path text NOT NULL,
  title text,
  verified_at timestamptz NOT NULL DEFAULT now(),
  result text NOT NULL CHECK (result IN ('passed', 'failed', 'unprocessable')),
  checks_passed int NOT NULL,
  checks_total int NOT NULL,
  labels text[] NOT NULL,
  error text,
  vendor text,
  product_name text,
  product_version text,
  product_type text,
  apiserver_version text
);
COMMENT ON TABLE conformance.submission IS
  'One row per verified certification submission (a vX.Y/<product> folder of cncf/k8s-conformance); verifying it again replaces the row';
COMMENT ON COLUMN conformance.submission.id IS 'Generated row id';
COMMENT ON COLUMN conformance.submission.name IS 'vX.Y/<product>, the folder''s place in cncf/k8s-conformance';
COMMENT ON COLUMN conformance.submission.release IS 'Release the submission is for, X.Y.Z';
COMMENT ON COLUMN conformance.submission.product IS 'Product folder name';
COMMENT ON COLUMN conformance.submission.path IS 'Folder that was verified';
COMMENT ON COLUMN conformance.submission.title IS 'Pull request title checked, if one was given';
COMMENT ON COLUMN conformance.submission.verified_at IS 'When it was verified';
COMMENT ON COLUMN conformance.submission.result IS
  'passed (every check passed), failed (some check failed) or unprocessable (see error)';
COMMENT ON COLUMN conformance.submission.checks_passed IS 'Checks that passed';
COMMENT ON COLUMN conformance.submission.checks_total IS 'Checks run (0 when unprocessable)';
COMMENT ON COLUMN conformance.submission.labels IS 'Labels the CNCF verify-conformance bot would apply';
COMMENT ON COLUMN conformance.submission.error IS
  'Why the submission could not be processed (unknown release, unreadable junit_01.xml, no conformance list); null otherwise';
COMMENT ON COLUMN conformance.submission.vendor IS 'PRODUCT.yaml vendor';
COMMENT ON COLUMN conformance.submission.product_name IS 'PRODUCT.yaml name';
COMMENT ON COLUMN conformance.submission.product_version IS 'PRODUCT.yaml version';
COMMENT ON COLUMN conformance.submission.product_type IS 'PRODUCT.yaml type (distribution, hosted platform, installer)';
COMMENT ON COLUMN conformance.submission.apiserver_version IS 'kube-apiserver version e2e.log reports, e.g. v1.35.0';

CREATE TABLE conformance.submission_testcase (
  submission_id bigint NOT NULL REFERENCES conformance.submission ON DELETE CASCADE,
  position int NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('passed', 'skipped', 'failed', 'errored')),
  conformance boolean NOT NULL,
  PRIMARY KEY (submission_id, position)
);
-- The missing-test view looks conformance testcases up by name; skipped ones are
-- most of the rows and never looked up, so they stay out of the index.
CREATE INDEX submission_testcase_conformance
  ON conformance.submission_testcase (submission_id, name) WHERE conformance;
COMMENT ON TABLE conformance.submission_testcase IS 'Every testcase of a submission''s junit_01.xml';
COMMENT ON COLUMN conformance.submission_testcase.submission_id IS 'conformance.submission.id';
COMMENT ON COLUMN conformance.submission_testcase.position IS 'Position of the testcase in junit_01.xml, from 1';
COMMENT ON COLUMN conformance.submission_testcase.name IS
  'Testcase name without a leading "[It] ", XML entities decoded: compares with release_test.codename';
COMMENT ON COLUMN conformance.submission_testcase.status IS
  'passed, skipped (<skipped>), failed (<failure>) or errored (<error>)';
COMMENT ON COLUMN conformance.submission_testcase.conformance IS 'The name contains [Conformance]';

CREATE TABLE conformance.submission_check (
  submission_id bigint NOT NULL REFERENCES conformance.submission ON DELETE CASCADE,
  position int NOT NULL,
  name text NOT NULL,
  title text NOT NULL,
  passed boolean NOT NULL,
  hint text,
  details text[] NOT NULL,
  PRIMARY KEY (submission_id, position)
);
COMMENT ON TABLE conformance.submission_check IS 'Each check run on a submission, in the order reported';
COMMENT ON COLUMN conformance.submission_check.submission_id IS 'conformance.submission.id';
COMMENT ON COLUMN conformance.submission_check.position IS 'Order of the check in the report, from 1';
COMMENT ON COLUMN conformance.submission_check.name IS 'Check id: files, only-files, product-fields, ..., required-tests, no-failed-tests';
COMMENT ON COLUMN conformance.submission_check.title IS 'What the check requires';
COMMENT ON COLUMN conformance.submission_check.passed IS 'Whether the requirement is met';
COMMENT ON COLUMN conformance.submission_check.hint IS 'One-line hint when it failed; null when it passed';
COMMENT ON COLUMN conformance.submission_check.details IS 'Names behind the hint: tests missing, not passed or failed';

CREATE VIEW conformance.submission_missing_test AS
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
COMMENT ON VIEW conformance.submission_missing_test IS
  'Required conformance tests each verified submission did not pass: one row per submission and test';
COMMENT ON COLUMN conformance.submission_missing_test.submission_id IS 'conformance.submission.id';
COMMENT ON COLUMN conformance.submission_missing_test.submission IS 'vX.Y/<product>';
COMMENT ON COLUMN conformance.submission_missing_test.release IS 'Release of the submission, X.Y.Z';
COMMENT ON COLUMN conformance.submission_missing_test.codename IS 'The required test';
COMMENT ON COLUMN conformance.submission_missing_test.testname IS 'Its short name';
COMMENT ON COLUMN conformance.submission_missing_test.status IS
  'missing (no testcase), or how its testcases ended: failed, errored or skipped';
