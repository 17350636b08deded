"""The box's journal: SQLite store with group commit, signing key, clock guard, CLI commands."""
