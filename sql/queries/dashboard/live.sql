-- The live testing page: testing.endpoint_hit_by_new_test, the endpoints each live
-- user agent hit; those CI does not test in the latest release (hit_by_ete false)
-- are the ones the test newly covers; null where that release has no coverage
-- data (unknown).
SELECT useragent,
       endpoint,
       hit_by_ete,
       hit_by_new_test
FROM testing.endpoint_hit_by_new_test
ORDER BY useragent, hit_by_ete, endpoint COLLATE "C";
