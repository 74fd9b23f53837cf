"""Use cases: each one function, each one transaction, shared by the API, the CLI and the web."""
