"""The web servers: the dashboard (routes.py over pages.py) and the audit webhook
(auditlogger.py), both run by server.py."""
