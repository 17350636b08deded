"""First boot without `[sync]`: make the MQTT key, print the pairing slip, ask HQ until staff
adopt the box, keep HQ's answer, then ask the daemon to restart paired (docs/protocol.md §12)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
import msgspec

from agent import AgentError
from agent.pairing.config import PairingSettings
from agent.pairing.identity import MQTT_KEY, csr_pem, load_or_make_mqtt_key
from agent.pairing.slip import slip_document
from agent.pairing.state import PairingView, PendingCode, new_request, pending, save, store_answer
from agent.printing.jobs import parse_job
from sync.pairing_code import code_hash, shown
from sync.protocol.pairing import REQUESTS_PATH, PairingAnswer, PairingRequest

if TYPE_CHECKING:
    from agent.api.context import AgentContext

log = logging.getLogger(__name__)
CODE_LIFE_MS = 24 * 3600 * 1000
"""A code older than this is replaced even if HQ cannot be asked (HQ's default lifetime)."""


def adoption_detail(answer: PairingAnswer) -> str:
    """The `detail` of the journal's `config.pairing` record (at most 500 characters): the
    store, and for a replacement the old box's log and the head HQ held (its chain of evidence
    continues here), then the broker and HQ's cosigner if they fit."""
    parts = [f"adopted by HQ into store {answer.store}"]
    r = answer.replaces
    if r is not None:
        parts.append(f"replaces box {r.box} log {r.log} at size {r.size} head {r.head}")
    for extra in (f"broker {answer.broker.host}:{answer.broker.port}" if answer.broker else "",
                  f"HQ cosigner {answer.hq_cosigner}"):
        if extra and len("; ".join([*parts, extra])) <= 500:
            parts.append(extra)
    return "; ".join(parts)


def wall_ms() -> int:
    """Now, in Unix milliseconds."""
    return int(time.time() * 1000)


class Pairing:
    """The box's side of pairing, run as a task of the daemon."""

    def __init__(self, ctx: AgentContext, settings: PairingSettings,
                 on_adopted: Callable[[], None], clock: Callable[[], int] = wall_ms) -> None:
        self.ctx = ctx
        self.settings = settings
        self.on_adopted = on_adopted
        self.clock = clock
        box = ctx.config.box
        self.view = PairingView("waiting", box=box.id, hq_url=settings.hq_url)

    def _printer(self) -> str | None:
        cfg = self.ctx.config
        if self.settings.printer is not None:
            return self.settings.printer
        return next((p.id for p in cfg.printers if p.profile.language == "escpos"), None)

    async def _print_slip(self, req: PendingCode) -> PendingCode:
        printer = self._printer()
        box = self.ctx.config.box
        if printer is None:
            log.warning("配对单无法打印：没有小票机 / no receipt printer for the pairing slip; "
                        "the code is on the status page")
            return req
        doc = slip_document(req.code, box.id, box.name, self.settings.hq_url)
        job = parse_job({"id": f"pairing-slip-{req.request[:12]}", "printer": printer,
                         "document": doc})
        await self.ctx.queue.submit(job)
        log.info("配对单已打印 / pairing slip queued on printer %s", printer)
        done = replace(req, printed=True)
        await asyncio.to_thread(save, self.ctx.config.box.state_dir, done)
        return done

    async def _request(self, req: PendingCode) -> PairingRequest:
        box = self.ctx.config.box
        key = await asyncio.to_thread(load_or_make_mqtt_key, box.state_dir / MQTT_KEY)
        journal = self.ctx.journal
        assert journal is not None
        genesis = await asyncio.to_thread(lambda: next(journal.entries(0)).record())
        return PairingRequest(request=req.request, code_hash=code_hash(req.code), box=box.id,
                              name=box.name, csr=csr_pem(key, box.id).decode(),
                              journal_pubkey=genesis["body"]["pubkey"], log=genesis["log"])

    async def _current(self) -> PendingCode:
        state_dir = self.ctx.config.box.state_dir
        req = await asyncio.to_thread(pending, state_dir)
        if req is None or self.clock() - req.created_ms >= CODE_LIFE_MS:
            req = await asyncio.to_thread(new_request, state_dir, self.clock())
            log.info("等待总部接入 / waiting for adoption by HQ at %s (a new pairing code)",
                     self.settings.hq_url)
        if not req.printed:
            req = await self._print_slip(req)
        self.view = replace(self.view, code=shown(req.code),
                            expires_ms=req.created_ms + CODE_LIFE_MS)
        await self._display({"lines": ["配对码 Pairing code", shown(req.code)],
                             "align": "center"})
        return req

    async def _display(self, body: dict[str, Any]) -> None:
        """Show `body` on every customer display that shows text (VFD); never fails pairing."""
        devices = self.ctx.devices
        for d in (devices.displays.values() if devices is not None else ()):
            if d.cfg.kind != "vfd":
                continue
            try:
                await d.show(body)
            except AgentError as e:
                log.warning("配对码无法显示在客显 %s / display %s: %s", d.id, d.id, e)

    async def run(self) -> None:
        """Ask HQ every `poll_s` until adopted; a refused or expired code is replaced."""
        url = self.settings.hq_url + REQUESTS_PATH
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            req = await self._current()
            body = msgspec.json.encode(await self._request(req))
            while True:
                answer: PairingAnswer | None = None
                try:
                    async with http.post(url, data=body, headers={
                            "Content-Type": "application/json"}) as r:
                        raw = await r.read()
                        if r.status in (200, 201):
                            answer = msgspec.json.decode(raw, type=PairingAnswer)
                            self.view = replace(self.view, error="")
                        elif r.status == 409:
                            log.warning("总部拒绝了配对请求 / HQ refused the pairing request: %s",
                                        raw[:300].decode(errors="replace"))
                            self.view = replace(self.view, error="总部拒绝了配对请求：" +
                                                raw[:200].decode(errors="replace"))
                        else:
                            self.view = replace(self.view, error=f"总部答复 HTTP {r.status}")
                except (aiohttp.ClientError, TimeoutError, msgspec.DecodeError) as e:
                    self.view = replace(self.view, error=f"无法连接总部 {self.settings.hq_url}："
                                                         f"{type(e).__name__}")
                if answer is not None and answer.state == "adopted":
                    await self._adopted(answer)
                    return
                if answer is not None and answer.state == "expired":
                    await asyncio.to_thread((self.ctx.config.box.state_dir / "pairing"
                                             / "request.json").unlink, True)
                    req = await self._current()
                    body = msgspec.json.encode(await self._request(req))
                    continue
                await asyncio.sleep(self.settings.poll_s)
                if self.clock() - req.created_ms >= CODE_LIFE_MS:
                    req = await self._current()
                    body = msgspec.json.encode(await self._request(req))

    async def _adopted(self, answer: PairingAnswer) -> None:
        box = self.ctx.config.box
        if answer.box != box.id or answer.broker is None:
            log.error("总部的答复不是给本设备的 / HQ's answer names box %s, not %s; ignored",
                      answer.box, box.id)
            return
        await asyncio.to_thread(store_answer, box.state_dir, answer)
        journal = self.ctx.journal
        assert journal is not None
        await journal.append("audit", {"event": "config.pairing", "actor": "hq",
                                       "detail": adoption_detail(answer)})
        self.view = PairingView("adopted", box=box.id, store=answer.store,
                                hq_url=self.settings.hq_url)
        await self._display({"clear": True})
        log.info("已被总部接入 / adopted by HQ into store %s; restarting with TLS to %s:%d",
                 answer.store, answer.broker.host, answer.broker.port)
        self.on_adopted()
