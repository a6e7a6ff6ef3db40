-- Pull requests and bounded indexes for submissions (revision 0011).
-- A verification may be of a pull request (a checkout's HEAD since its base, or one on
-- GitHub): which one is kept. A junit testcase name has no length limit, and a btree
-- entry holds at most ~2,700 bytes: the index holds the md5 of the name, the table the
-- name whole (conformance.submission_missing_test version 2 looks names up by it).

ALTER TABLE conformance.submission ADD COLUMN pull_request text;
COMMENT ON COLUMN conformance.submission.pull_request IS
  'The pull request verified: a GitHub pull request''s URL, or a checkout and the base its HEAD was compared with; null for a folder';
COMMENT ON COLUMN conformance.submission.path IS
  'Folder that was verified (for a pull request: the vX.Y/<product> folder its files are in)';

DROP INDEX conformance.submission_testcase_conformance;
CREATE INDEX submission_testcase_conformance
  ON conformance.submission_testcase (submission_id, md5(name)) WHERE conformance;

COMMENT ON COLUMN conformance.release_test.first_release IS
  'Oldest release listed in the test''s release: field (v1.9, v1.18 and v1.31,v1.20 -> 1.9.0 and 1.20.0): submissions for this release or later must pass it';
