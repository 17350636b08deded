"""Receipts per second of the ESC/POS encoder: native GB18030 text against all-raster text.

    .venv/bin/python bench/bench_encoder.py [--json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rows import Row, add_json_flag, emit
from drivers.escpos.document import Block, Cell, Columns, Cut, Document, Rule, Text
from drivers.escpos.encoder import encode
from drivers.profiles import get_profile

# (name, spec, unit, price in fen) in the shape of the sample catalogue.
ITEMS = (
    ("不锈钢合页 4寸", "304 / 2.5mm", "片", 850),
    ("静音抽屉滑轨 三节", "450mm", "副", 3600),
    ("十字沉头自攻螺丝", "M4×30 (500只/盒)", "盒", 1800),
    ("E0级生态板", "1220×2440×18mm", "张", 16800),
    ("多层实木胶合板", "1220×2440×12mm", "张", 9800),
    ("净味全效墙面漆 白色", "5L", "桶", 39800),
    ("PPR冷热水管 4分", "4m/根", "根", 2350),
    ("BV铜芯电线 2.5平方", "100m/卷", "卷", 26500),
    ("86型五孔插座 雅白", "10A", "个", 1290),
    ("恒温花洒套装", "镀铬", "套", 59900),
)
RUNS = 5


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def receipt() -> tuple[Document, str]:
    """A 30-line sales receipt, and its printed text for the baseline."""
    blocks: list[Block] = [
        Text("永盛建材五金（解放碑店）", align="center", bold=True, width=2, height=2),
        Text("重庆市渝中区民族路 188 号  电话 023-6380 1234", align="center"),
        Text("单号 S20240611-0032  收银员 李晓梅  2024-06-11 15:42"),
        Rule("-"),
        Columns((Cell("商品", 26), Cell("数量", 8, "right"), Cell("金额", None, "right")), True),
    ]
    total = 0
    for i in range(10):
        name, spec, unit, price = ITEMS[i]
        qty = i % 3 + 1
        total += qty * price
        blocks.append(Columns((Cell(f"{name} {spec}", 26), Cell(f"{qty}{unit}", 8, "right"),
                               Cell(yuan(qty * price), None, "right"))))
    blocks += [
        Rule("-"),
        Columns((Cell("件数"), Cell(str(sum(i % 3 + 1 for i in range(10))), 16, "right"))),
        Columns((Cell("原价合计"), Cell(f"¥{yuan(total)}", 16, "right"))),
        Columns((Cell("会员优惠"), Cell("-¥0.00", 16, "right"))),
        Columns((Cell("合计"), Cell(f"¥{yuan(total)}", 16, "right")), True),
        Columns((Cell("微信支付"), Cell(f"¥{yuan(total)}", 16, "right"))),
        Columns((Cell("会员 138****6621 本次积分"), Cell(str(total // 100), 16, "right"))),
        Rule("="),
        Text("客户 永盛装饰工程部（渝中）  送货 明日上午"),
        Text("开具发票请扫描小票底部二维码或联系门店"),
        Text("退换货请凭小票于七日内办理，定制板材恕不退换。", align="center"),
        Text("谢谢惠顾，欢迎再次光临！", align="center"),
        Cut(),
    ]
    lines = []
    for b in blocks:
        if isinstance(b, Text):
            lines.append(b.text)
        elif isinstance(b, Columns):
            lines.append(" ".join(c.text for c in b.cells))
        elif isinstance(b, Rule):
            lines.append(b.char * 48)
    return Document(tuple(blocks)), "\n".join(lines)


def per_second(fn: Callable[[], object], n: int) -> float:
    """Median over RUNS runs of calls per second, each run making `n` calls."""
    rates = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_flag(ap)
    args = ap.parse_args()
    doc, text = receipt()
    native_p, raster_p = get_profile("generic-cn-80"), get_profile("raster-80")
    native_out, raster_out = encode(doc, native_p), encode(doc, raster_p)  # warm caches, fonts
    printed = native_out.data.count(b"\n")
    print(f"receipt: {len(doc.blocks)} blocks, {printed} printed lines, "
          f"{len(text)} characters")
    print(f"  native generic-cn-80: {len(native_out.data):7d} bytes in "
          f"{len(native_out.chunks)} chunk(s)")
    print(f"  raster raster-80:     {len(raster_out.data):7d} bytes in "
          f"{len(raster_out.chunks)} chunk(s)")
    baseline = per_second(lambda: text.encode("gb18030"), 20000)
    native = per_second(lambda: encode(doc, native_p), 200)
    raster = per_second(lambda: encode(doc, raster_p), 10)
    print(f"baseline text.encode('gb18030'): {baseline:12,.0f} /s")
    print(f"encode generic-cn-80 (native):   {native:12,.1f} receipts/s  "
          f"({baseline / native:,.0f}x the baseline's cost)")
    print(f"encode raster-80 (raster):       {raster:12,.1f} receipts/s")
    print(f"raster/native cost ratio:        {native / raster:12,.1f}x")
    emit([Row("ESC/POS encode, 30-line Chinese receipt, native", native, "receipts/s",
              "str.encode('gb18030') of its text", baseline),
          Row("ESC/POS encode, the same receipt as raster", raster, "receipts/s",
              "the same receipt, native", native)], args.json)


if __name__ == "__main__":
    main()
