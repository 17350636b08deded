"""HQ's pairing on a real pairing book, CA directory and HTTP server: a box's request and poll
need no token, adoption does; codes are single-use, expire, and wrong guesses are limited;
every refusal is JSON naming the field and changes nothing."""

from __future__ import annotations

import datetime
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509

from agent.pairing.identity import csr_pem, load_or_make_mqtt_key
from agent.pairing.runner import adoption_detail
from hq.config import BoxEntry, PairingConfig
from hq.dispatch.cloud_print import Dispatcher
from hq.fleet.registry import Registry
from hq.pairing.book import HqIdentity, KnownBoxes, PairingBook
from hq.pairing.web import install
from hq.pki.ca_dir import CaDir
from hq.store import StoredEntry
from hq.store.sqlite import SqliteStore
from hq.web.api import ApiContext, make_app
from sync.journal.record import public_bytes
from sync.pairing_code import code_hash, shown
from sync.protocol.pairing import Broker, PairingAnswer, Replaced
from tests.hq.journals import HQ_KEY

Client = TestClient[web.Request, web.Application]
NOW = 1_795_916_000_000
TOKEN = secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOX = "CQ-JB-001-B1"
CODE = "7KQ2M9XD"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def book(tmp_path: Path) -> PairingBook:
    ca = CaDir(tmp_path / "pki")
    ca.init("Storelink HQ CA", datetime.datetime.fromtimestamp(NOW / 1000, datetime.UTC), 30)
    cfg = PairingConfig(ca.root, tmp_path / "pairing.db", "mqtt.example.cn", 8883,
                        code_ttl_s=3600, max_failures=3, failure_window_s=600, max_pending=3)
    return PairingBook(cfg, HqIdentity(public_bytes(HQ_KEY), "storelink-hq"))


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "hq.db")


@pytest.fixture
async def client(store: SqliteStore, book: PairingBook) -> AsyncIterator[tuple[Client, Clock]]:
    clock = Clock()

    async def publish(topic: str, payload: bytes, expiry_s: int) -> bool:
        return True

    ctx = ApiContext(store, Registry(store, clock),
                     Dispatcher(store, publish, clock, HQ_KEY, 86_400, 300), TOKEN)
    ctx.adopted = lambda: [a.box for a in book.adoptions()]
    app = make_app(ctx)
    install(app, book, clock, store)
    c: Client = TestClient(TestServer(app), headers={"Content-Type": "application/json"})
    await c.start_server()
    yield c, clock
    await c.close()
    book.close()


def request(tmp_path: Path, code: str = CODE, box: str = BOX, **extra: Any) -> dict[str, Any]:
    key = load_or_make_mqtt_key(tmp_path / box / "mqtt.key")
    return {"v": 1, "request": secrets.token_hex(16), "code_hash": code_hash(code), "box": box,
            "name": "重庆江北建材旗舰店 收银台", "csr": csr_pem(key, box).decode(),
            "journal_pubkey": "ab" * 32, "log": "cd" * 16, **extra}


async def adopt(c: Client, code: str, store: str = "CQ-JB-001") -> tuple[int, Any]:
    r = await c.post("/v1/pairing/adoptions", json={"code": code, "store": store}, headers=AUTH)
    return r.status, await r.json()


async def test_request_poll_adopt_and_the_answer(
        client: tuple[Client, Clock], tmp_path: Path, book: PairingBook) -> None:
    c, _ = client
    req = request(tmp_path)
    r = await c.post("/v1/pairing/requests", json=req)  # no token: the box has none yet
    assert r.status == 201 and (await r.json())["state"] == "pending"
    r = await c.post("/v1/pairing/requests", json=req)
    assert r.status == 200 and (await r.json())["state"] == "pending"
    assert (await (await c.get("/v1/pairing", headers=AUTH)).json())["pending"] == 1
    assert (await c.get("/v1/pairing")).status == 401
    assert (await c.post("/v1/pairing/adoptions", json={"code": CODE, "store": "S"})
            ).status == 401

    status, a = await adopt(c, shown(CODE).lower())
    assert status == 201 and (a["box"], a["store"], a["by"]) == (BOX, "CQ-JB-001", "api")
    answer = await (await c.post("/v1/pairing/requests", json=req)).json()
    assert answer["state"] == "adopted" and answer["broker"] == {"host": "mqtt.example.cn",
                                                                 "port": 8883}
    cert = x509.load_pem_x509_certificate(answer["cert"].encode())
    assert f"CN={BOX}" in cert.subject.rfc4514_string()
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(answer["ca"].encode()))
    assert f"{cert.serial_number:x}" == a["serial"]
    # The journal key and log are pinned: ingest knows the box from now on.
    known = KnownBoxes({}, book)
    assert known[BOX] == BoxEntry(BOX, (bytes.fromhex("ab" * 32),), "cd" * 16)
    assert list(known) == [BOX]
    # Single use: the same code adopts nothing again, and neither does a new request for
    # the same box id.
    assert (await adopt(c, CODE))[0] == 404
    r = await c.post("/v1/pairing/requests", json=request(tmp_path, "8KQ2M9XD"))
    assert r.status == 409 and (await r.json())["error"]["field"] == "box"
    # What HQ keeps has no code and no request secret.
    raw = (tmp_path / "pairing.db").read_bytes()
    assert CODE.encode() not in raw and req["request"].encode() not in raw


async def test_codes_expire_and_wrong_guesses_are_limited(
        client: tuple[Client, Clock], tmp_path: Path) -> None:
    c, clock = client
    req = request(tmp_path)
    assert (await c.post("/v1/pairing/requests", json=req)).status == 201
    other = request(tmp_path, box="CQ-JB-002-B1")
    r = await c.post("/v1/pairing/requests", json=other)  # the same code, another box
    assert r.status == 409 and (await r.json())["error"]["field"] == "code_hash"
    for _ in range(3):
        assert (await adopt(c, "2222-2222"))[0] == 404
    status, answer = await adopt(c, CODE)  # even the right code waits out the window
    assert status == 429 and answer["error"]["field"] == "code"
    clock.now += 601_000
    clock.now += 3600_000  # and by then the code has expired
    assert (await adopt(c, CODE))[0] == 404
    r = await c.post("/v1/pairing/requests", json=req)
    assert (await r.json())["state"] == "expired"


@pytest.mark.parametrize(("change", "field"), [
    ({"box": "门店/1"}, "box"), ({"code_hash": "x"}, "code_hash"), ({"request": "AB"}, "request"),
    ({"csr": "-----BEGIN CERTIFICATE REQUEST-----" + "A" * 40}, "csr"),
    ({"journal_pubkey": "zz"}, "journal_pubkey"), ({"extra": 1}, "extra"), ({"v": 2}, "v"),
])
async def test_bad_requests_name_the_field(client: tuple[Client, Clock], tmp_path: Path,
                                           change: dict[str, Any], field: str) -> None:
    c, _ = client
    r = await c.post("/v1/pairing/requests", json=request(tmp_path) | change)
    body = await r.json()
    assert r.status == 400 and body["error"]["field"] == field, body
    assert (await (await c.get("/v1/pairing", headers=AUTH)).json())["pending"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"code": CODE, "store": "门店 1"}, "store"), ({"code": "12", "store": "S1"}, "code"),
    ({"code": CODE, "store": "S1", "by": "me"}, "by"), ({"store": "S1"}, "code"),
])
async def test_bad_adoptions_name_the_field(client: tuple[Client, Clock], body: dict[str, Any],
                                            field: str) -> None:
    c, _ = client
    r = await c.post("/v1/pairing/adoptions", json=body, headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["field"] == field


async def test_an_adopted_box_is_on_the_dashboard_before_it_ever_connects(
        client: tuple[Client, Clock], tmp_path: Path) -> None:
    c, _ = client
    assert (await c.post("/v1/pairing/requests", json=request(tmp_path))).status == 201
    assert BOX not in [b["id"] for b in (await (await c.get("/v1/boxes", headers=AUTH)).json())
                       ["boxes"]]
    r = await c.post("/v1/pairing/adoptions", json={"code": CODE, "store": "CQ-JB-001"},
                     headers=AUTH)
    assert r.status == 201
    boxes = (await (await c.get("/v1/boxes", headers=AUTH)).json())["boxes"]
    assert [b["presence"] for b in boxes if b["id"] == BOX] == ["never"]  # 从未上线
    one = await c.get(f"/v1/boxes/{BOX}", headers=AUTH)
    assert one.status == 200 and (await one.json())["presence"] == "never"


async def test_the_adoption_page_needs_a_signed_in_operator(
        client: tuple[Client, Clock]) -> None:
    c, _ = client
    r = await c.get("/pairing", headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status in (302, 303) and r.headers["Location"].startswith("/login")
    r = await c.get("/pairing", headers={"Accept": "text/html", **AUTH})
    assert r.status == 200 and "接入新设备" in await r.text()


async def test_a_replacement_continues_the_old_boxs_history(
        client: tuple[Client, Clock], tmp_path: Path, store: SqliteStore) -> None:
    c, clock = client
    assert (await c.post("/v1/pairing/requests", json=request(tmp_path))).status == 201
    assert (await adopt(c, CODE))[0] == 201
    # HQ holds (and cosigned) two records of the old box's log.
    entries = [StoredEntry(i, f'{{"seq":{i},"text":"收银"}}'.encode(), bytes([i]) * 32,
                           bytes([i]) * 64) for i in range(2)]
    assert store.journal_append(BOX, "cd" * 16, 0, entries, {"size": 2}, NOW)
    new_box, new_code = "CQ-JB-001-B2", "8KQ2M9XD"
    req = request(tmp_path, new_code, new_box, log="ef" * 16)
    assert (await c.post("/v1/pairing/requests", json=req)).status == 201
    for replaces, status, field in (("CQ-ZZ-009-B1", 404, "replaces"), ("a/b", 400, "replaces")):
        r = await c.post("/v1/pairing/adoptions", headers=AUTH, json={
            "code": new_code, "store": "CQ-JB-001", "replaces": replaces})
        assert r.status == status and (await r.json())["error"]["field"] == field
    r = await c.post("/v1/pairing/adoptions", headers=AUTH, json={
        "code": new_code, "store": "CQ-YB-002", "replaces": BOX})
    assert r.status == 409  # another store's box
    clock.now += 1000
    r = await c.post("/v1/pairing/adoptions", headers=AUTH, json={
        "code": new_code, "store": "CQ-JB-001", "replaces": BOX})
    assert r.status == 201, await r.text()
    answer = await (await c.post("/v1/pairing/requests", json=req)).json()
    old = {"box": BOX, "log": "cd" * 16, "size": 2, "head": "01" * 32}
    assert answer["replaces"] == old
    detail = adoption_detail(msgspec.json.decode(json.dumps(answer), type=PairingAnswer))
    assert f"replaces box {BOX} log {'cd' * 16} at size 2 head {'01' * 32}" in detail
    assert len(detail) <= 500
    history = await (await c.get("/v1/pairing/stores/CQ-JB-001", headers=AUTH)).json()
    assert [(h["box"], h["log"], h["replaces"]) for h in history["logs"]] == [
        (BOX, "cd" * 16, None), (new_box, "ef" * 16, old)]
    assert history["logs"][0]["held"] == {"log": "cd" * 16, "size": 2, "head": "01" * 32}
    r = await c.get("/v1/pairing/stores/CQ-XX-404", headers=AUTH)
    assert r.status == 404 and (await r.json())["error"]["field"] == "store"


def test_the_adoption_record_fits_the_journal_with_long_names() -> None:
    answer = PairingAnswer(state="adopted", expires_ms=0, box="B" * 64, store="S" * 64,
                           broker=Broker(host="h" * 253, port=8883), hq_cosigner="c" * 128,
                           replaces=Replaced(box="O" * 64, log="a" * 32, size=10**15,
                                             head="b" * 64))
    detail = adoption_detail(answer)
    assert len(detail) <= 500 and "replaces box " + "O" * 64 in detail


async def test_strangers_cannot_fill_the_book(client: tuple[Client, Clock],
                                              tmp_path: Path) -> None:
    c, clock = client  # pairing.max_pending = 3
    for i, code in enumerate(("22222222", "33333333", "55555555")):
        r = await c.post("/v1/pairing/requests", json=request(tmp_path, code, f"B{i}"))
        assert r.status == 201
    r = await c.post("/v1/pairing/requests", json=request(tmp_path, "44444444", "B9"))
    assert r.status == 429 and (await r.json())["error"]["field"] == "request"
    clock.now += 3600_000  # the codes expire: room again
    r = await c.post("/v1/pairing/requests", json=request(tmp_path, "44444444", "B9"))
    assert r.status == 201
