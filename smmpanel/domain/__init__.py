"""The panel's rules as pure Python: no I/O, no database, no HTTP."""
