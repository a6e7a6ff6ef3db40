-- endpoint_coverage version 3 (revision 0012): the definition of version 2, with
-- its tests column saying what '' is. Tests keep '' for hits of e2e.test user agents
-- that name no test, as apisnoop's published coverage files list it (compare-published
-- compares with them); the conformance views never count it, since no
-- conformance.test codename is ''.

COMMENT ON COLUMN endpoint_coverage.tests IS
  'Distinct names of the tests that hit it in this release, sorted; empty when none; '''' for e2e.test user agents that name no test (as apisnoop lists them)';
