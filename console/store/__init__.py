"""The local SQLite replica: schema, opening and migration, ingest, and queries. No Qt here."""
