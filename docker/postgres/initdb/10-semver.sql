-- pg-semver in the database the image creates ($POSTGRES_DB), so that ad-hoc
-- `release::semver` queries run unchanged. snoopdb's own views never need it.
CREATE EXTENSION IF NOT EXISTS semver;
