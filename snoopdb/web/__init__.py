"""The web servers: the dashboard and the audit webhook (auditlogger), one app factory."""
