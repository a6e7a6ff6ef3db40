"""Certification submissions: the CNCF bot's checks and their stored results."""
