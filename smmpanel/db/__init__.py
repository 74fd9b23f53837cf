"""The database adapter: tables, migrations, repositories and the unit of work."""
