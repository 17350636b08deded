"""Shared fixtures for HQ tests: one throwaway PostgreSQL cluster per session."""

from __future__ import annotations

from tests.e2e.postgres import pg_cluster, pg_url

__all__ = ["pg_cluster", "pg_url"]
