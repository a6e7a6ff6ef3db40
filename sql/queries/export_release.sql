-- `snoopdb export`'s release when none is named: the views' latest release (null
-- when no spec is loaded). Asked first, so that export.sql reads the release's
-- coverage source by value: joined to a computed release, release_coverage
-- answers for every release and costs seconds.
SELECT latest_release();
