"""HQ's people: users with roles, passwords, API tokens, and who may do what (docs/hq.md)."""
