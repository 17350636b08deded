"""Typed keys of the aiohttp application state."""

from __future__ import annotations

from aiohttp import web

from agent.api.context import AgentContext

CTX = web.AppKey("ctx", AgentContext)
