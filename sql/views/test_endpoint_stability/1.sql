-- Which test hits an endpoint only sometimes: per job of a release, for each test and
-- each endpoint it hit in one of the job's runs, the runs in which the test ran (any
-- of its events mapped to an endpoint) and those in which it hit the endpoint. A test
-- that ran in every run but hit the endpoint in some is what makes it flaky. From
-- the per-release summary release_test_endpoint_hit.

CREATE VIEW test_endpoint_stability AS
SELECT release, job, test, endpoint, runs_test_ran, runs_hit
FROM release_test_endpoint_hit;

COMMENT ON VIEW test_endpoint_stability IS
  'Per release, job, test and endpoint the test hit in one of the job''s runs: runs in which the test ran, runs in which it hit the endpoint';
COMMENT ON COLUMN test_endpoint_stability.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN test_endpoint_stability.job IS 'The job (audit_run.job)';
COMMENT ON COLUMN test_endpoint_stability.test IS 'Test name as in audit_event.test ('''' = an e2e.test user agent without one)';
COMMENT ON COLUMN test_endpoint_stability.endpoint IS 'The operationId';
COMMENT ON COLUMN test_endpoint_stability.runs_test_ran IS '# of runs of the job in which the test ran (an event of it mapped to an endpoint)';
COMMENT ON COLUMN test_endpoint_stability.runs_hit IS '# of those runs in which the test hit the endpoint';
