"""snoopdb: which parts of the Kubernetes API do tests exercise, release by release."""

__version__ = "0.1.0"
