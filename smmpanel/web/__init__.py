"""The web dashboard: server-rendered pages for customers and for the operator."""
