"""Against the real daemon: every sale and its audit record are one commit (issue 11, point 10).

Before, the audit middleware appended the audit record after the handler had committed the
sale, so other requests' records slipped in between and a crash or a full disk between the two
commits left a sale without its audit. Now the audit record is the very next record, whoever
else is writing at the same moment.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.e2e.edge_proc import job, journal_records, post_json, sale, start_box


def test_concurrent_sales_each_commit_with_their_audit_record(tmp_path: Path) -> None:
    box = start_box(tmp_path)
    try:
        orders = [f"XS-20261207-{n:04d}" for n in range(24)]

        def sell(order: str) -> int:
            a = post_json(box.port, "/v1/sales", sale(order), **{"X-Storelink-Clerk": "C001"})
            assert a.status == 201, a
            return int(a.json()["seq"])

        def queue(n: int) -> None:
            assert post_json(box.port, "/v1/print-jobs", job(f"busy-{n}")).status == 202

        with ThreadPoolExecutor(max_workers=12) as pool:
            jobs = [pool.submit(queue, n) for n in range(24)]
            seqs = list(pool.map(sell, orders))
            for j in jobs:
                j.result()
        records = journal_records(tmp_path / "state" / "journal.db")
        for seq in seqs:
            sold, audit = records[seq], records[seq + 1]
            assert sold["type"] == "sale"
            assert audit["type"] == "audit", (seq, audit)
            assert audit["body"]["ref_seq"] == seq
            assert audit["body"]["event"] == "sale.create" and audit["body"]["actor"] == "anonymous"
            assert "POST /v1/sales → 201" in audit["body"]["detail"]
            assert "claimed clerk C001" in audit["body"]["detail"]
        # One audit record per sale, never a second one from the middleware.
        sale_audits = [r for r in records if r["type"] == "audit"
                       and r["body"]["detail"].startswith("POST /v1/sales")]
        assert sorted(a["body"]["ref_seq"] for a in sale_audits) == sorted(seqs)
    finally:
        box.stop()
