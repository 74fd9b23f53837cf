"""Upstream providers: the panels our orders are forwarded to, and a simulator of one."""
