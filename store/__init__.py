"""Store: schema, migrations, deduplication and provenance in one SQLite file (the only user of sqlite-utils)."""
