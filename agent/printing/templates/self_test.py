"""The `self_test` template: the ticket a printer prints on attach, the box's main support tool."""

from __future__ import annotations

from collections.abc import Mapping

from agent.printing.templates import fields as f
from agent.printing.templates.blocks import center, rule
from drivers import InvalidInput
from drivers.escpos.document import QR, Block, Cut, Document, Feed, Text
from drivers.profiles import PrinterProfile

LOCAL_ONLY = "仅本机"
"""What the self-test says for a box with no address but loopback: reachable on the box only."""


def build(data: Mapping[str, object], profile: PrinterProfile) -> Document:
    """Box id, addresses, printer id and profile, time, and a QR to the box's local page."""
    data = f.obj(data, "data")
    when = f.timestamp(data, "time", "data")
    b: list[Block] = [center("Storelink 打印机自检", bold=True, size=2), Feed(1),
                      Text(f"盒子编号: {f.text(data, 'box_id', 'data', max_len=64)}")]
    if data.get("store") is not None:
        b.append(Text(f"门店: {f.text(data, 'store', 'data')}"))
    addresses = f.items(data, "addresses", "data", required=False, max_items=8)
    for i, addr in enumerate(addresses):
        if not isinstance(addr, str) or len(addr) > 64:
            raise InvalidInput(f"data.addresses[{i}]", "must be an address string")
        b.append(Text(f"IP 地址: {addr}"))
    if not addresses:
        b.append(Text(f"IP 地址: {LOCAL_ONLY}"))
    b += [Text(f"打印机: {f.text(data, 'printer_id', 'data', max_len=64)}"),
          Text(f"型号配置: {profile.name} ({profile.paper_dots} 点 / {profile.columns} 列)"),
          Text(f"中文模式: {profile.dbcs}"),
          Text(f"时间: {when.strftime('%Y-%m-%d %H:%M:%S')}"), rule(),
          Text("中文测试: 不锈钢合页 ¥12.50 ×3 【合计】"),
          Text("ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789"),
          rule()]
    url = data.get("url")
    if url is not None:
        b += [center("扫码打开本机页面"), QR(f.text(data, "url", "data", max_len=300), size=5),
              center(f.text(data, "url", "data", max_len=300))]
    b += [Feed(1), Cut()]
    return Document(tuple(b))


def label(data: Mapping[str, object], profile_name: str) -> dict[str, object]:
    """The self-test as a 60×40 mm label document (docs/labels.md) for label printers."""
    def short(v: object) -> str:
        s = str(v)
        return s if len(s) <= 24 else s[:23] + "…"

    addresses = data.get("addresses")
    # Every address that fits the row, as a technician needs them; none but loopback: say so.
    ips = " ".join(map(str, addresses)) if isinstance(addresses, list) and addresses \
        else LOCAL_ONLY
    rows = [f"盒子 {short(data.get('box_id'))}", f"打印机 {short(data.get('printer_id'))}",
            f"型号 {short(profile_name)}", f"IP {short(ips)}",
            short(str(data.get("time", ""))[:16].replace("T", " "))]
    elements: list[dict[str, object]] = [
        {"type": "box", "x": 0.5, "y": 0.5, "width": 59, "height": 39, "thickness": 0.3},
        {"type": "text", "x": 2, "y": 2, "text": "Storelink 自检", "size": 3.5, "bold": True,
         "width": 36},
    ]
    elements += [{"type": "text", "x": 2, "y": 8 + 6 * i, "text": row, "size": 2.5, "width": 36}
                 for i, row in enumerate(rows)]
    if data.get("url"):
        elements.append({"type": "qr", "x": 39, "y": 2, "data": str(data["url"]), "size": 19,
                         "ec": "M"})
    return {"width": 60, "height": 40, "elements": elements}
