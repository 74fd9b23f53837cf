"""Helpers shared by the test suite: databases, a live server, a panel driver."""
