"""Real services the tests start themselves (PostgreSQL, the Elasticsearch-API emulator)."""
