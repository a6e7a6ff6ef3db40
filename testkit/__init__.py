"""Helpers shared by the tests and the benchmarks: scratch databases, loopback servers
in the layouts of GitHub raw and the GCS JSON API, and an audit log generator.
tests/conftest.py loads the fixtures as a pytest plugin (testkit.plugin)."""
