"""POST /v1/journal/rotate-key: replace the journal's signing key with a supervisor's approval.

The approval record comes first, then the `key_rotate` record (signed by the old key, its proof
by the new one: docs/journal.md §9.2 step 10f). HQ learns the new key from that record when the
journal is uploaded, and verifies on across the rotation.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent import AgentError
from agent.api.http import json_response
from agent.sales import ConflictError
from agent.sales.api import _object, _service
from agent.sales.audit import note
from agent.sales.requests import check, request_object
from sync.journal.schema import ID, text

routes = web.RouteTableDef()

ROTATE_FIELDS = frozenset({"reason", "clerk", "approval"})
ACTION = "journal_key_rotate"
"""The approval's `action` (an approval is always needed, whatever the configuration)."""


@routes.post("/v1/journal/rotate-key")
async def post_rotate_key(request: web.Request) -> web.Response:
    """Rotate the journal key: 403 without a valid approval, 409 while one is in progress."""
    note(request, "journal.rotate_key")
    svc = _service(request)
    req = request_object(await _object(request), ROTATE_FIELDS)
    reason = req.get("reason")
    check(text(1, 150), reason, "reason")
    if req.get("clerk") is not None:
        check(ID, req["clerk"], "clerk")
        note(request, actor=req["clerk"])
    approved = await svc.approvals.check(req.get("approval"), ACTION)
    old = svc.journal.head.key
    approval = await svc.append_approval(approved, ACTION, f"更换日志签名密钥 {old}: {reason}")
    approval_seq = approval.record()["seq"]
    try:
        rotated = await svc.journal.rotate_key(f"{reason} (审批 {approval_seq})")
    except AgentError as e:  # another rotation holds the key files
        raise ConflictError("journal", str(e)) from None
    new = rotated.entry.record()["body"]["new_key"]
    answer: dict[str, Any] = {"seq": rotated.seq, "hash": rotated.hash.hex(), "type": "key_rotate",
                              "old_key": old, "new_key": new, "approval_seq": approval_seq,
                              "approver": approved.approver}
    note(request, ref_seq=rotated.seq,
         detail=f"key {old} → {new}, approval {approval_seq} by {approved.approver}")
    return json_response(answer, 201)
