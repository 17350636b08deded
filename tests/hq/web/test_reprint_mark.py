"""A reprint's paper says 补打 with the original job and the reason: a receipt template gets
`data.reprint`, a document gets the banner blocks first; what the box cannot mark goes as it was.
Each marked job still passes the job rules the box applies."""

from __future__ import annotations

from typing import Any

from drivers.escpos.document import Text, parse_document
from hq.web.phone_api import marked_reprint
from sync.protocol.print_job import parse_job

REASON = "客户丢失，补打一张"


def test_a_template_job_carries_the_mark_in_its_data() -> None:
    job: dict[str, Any] = {"id": "r-1", "printer": "front", "template": "picking_list",
                           "data": {"route": "江北线"}}
    out = marked_reprint(job, "m-1", REASON)
    assert out["data"] == {"route": "江北线", "reprint": {"of": "m-1", "reason": REASON}}
    assert job["data"] == {"route": "江北线"}  # the stored original is not touched
    parse_job(out)


def test_a_document_job_is_headed_by_the_banner() -> None:
    job: dict[str, Any] = {"id": "r-2", "printer": "front",
                           "document": {"blocks": [{"type": "text", "text": "送货单 永盛家装"}]}}
    out = marked_reprint(job, "m-2", REASON)
    doc = parse_document(out["document"])
    texts = [b.text for b in doc.blocks if isinstance(b, Text)]
    assert texts == ["** 补打 **", "原单: m-2", f"补打原因: {REASON}", "送货单 永盛家装"]
    parse_job(out)


def test_labels_and_raw_bytes_go_unchanged() -> None:
    label = {"id": "r-3", "printer": "label", "template": "price_label", "data": {"sku": "A"}}
    raw = {"id": "r-4", "printer": "front", "raw": "G0A="}
    assert marked_reprint(label, "m-3", REASON) == label
    assert marked_reprint(raw, "m-4", REASON) == raw
