"""Pure: the box's health from its parts — printers, HQ link, journal writer, disk — as a status
("ok", "degraded", "stopping") and the reasons, each in Chinese with the raw detail beside it."""

from __future__ import annotations

from dataclasses import dataclass

from agent.health.explain import Problem
from agent.health.link import LinkSnapshot, LinkState


@dataclass(frozen=True)
class Reason:
    """One thing that is wrong: `code` for machines, `text` (Chinese, with the fix) for staff,
    `detail` the raw error for the technician."""

    code: str
    text: str
    detail: str = ""
    subject: str | None = None

    def to_obj(self) -> dict[str, object]:
        """As /v1/health shows it."""
        out: dict[str, object] = {"code": self.code, "text": self.text, "detail": self.detail}
        if self.subject is not None:
            out["subject"] = self.subject
        return out


@dataclass(frozen=True)
class JournalHealth:
    """The journal writer: alive, last write error, how long the current batch has run."""

    alive: bool
    write_error: str | None
    busy_s: float


def assess(*, accepting: bool, printers: list[tuple[str, Problem | None, str]],
           link: LinkSnapshot | None, journal: JournalHealth | None, disk_free_mb: int | None,
           disk_min_free_mb: int, stall_s: float) -> tuple[str, list[Reason]]:
    """`printers`: (id, problem, raw detail); the status and every reason, in a fixed order."""
    reasons: list[Reason] = []
    if link is not None and link.state is not LinkState.CONNECTED:
        label = "正在连接 HQ" if link.state is LinkState.CONNECTING else "与 HQ 的连接断开"
        text = f"{label}：{link.error_zh}" if link.error_zh else label
        reasons.append(Reason("hq_link", text, link.last_error or "", link.broker))
    for pid, problem, detail in printers:
        if problem is not None:
            reasons.append(Reason("printer", f"{pid}：{problem.text}", detail, pid))
    if journal is not None:
        if not journal.alive:
            reasons.append(Reason("journal", "销售日志无法写入：重启设备；仍不行请联系技术支持",
                                  journal.write_error or "journal writer stopped"))
        elif journal.write_error is not None:
            reasons.append(Reason("journal", "销售日志写入失败：检查存储卡空间；仍不行请联系"
                                  "技术支持", journal.write_error))
        elif journal.busy_s > stall_s:
            reasons.append(Reason("journal", "销售日志写入卡住：检查存储卡；仍不行请重启设备",
                                  f"one write has taken {journal.busy_s:.0f} s"))
    if disk_free_mb is not None and disk_free_mb < disk_min_free_mb:
        reasons.append(Reason("disk", f"存储空间不足：只剩 {disk_free_mb} MB，请联系技术支持清理",
                              f"{disk_free_mb} MB free < {disk_min_free_mb} MB"))
    if not accepting:
        return "stopping", reasons
    return ("degraded" if reasons else "ok"), reasons
