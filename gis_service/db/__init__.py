"""Storage: the managed cluster, connections, the schema and its migrations."""
