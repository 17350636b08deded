"""Pure: what a printer's state or an HQ link error means for store staff, in Chinese, with
the fix; the raw error text stays in `detail` for the technician."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.printer_state import PrinterState
from drivers.transports.file import FileTarget
from drivers.transports.serial_port import SerialTarget
from drivers.transports.tcp import TcpTarget
from drivers.transports.usb import UsbTarget
from sync.link_text import link_error_zh

__all__ = ["Problem", "link_error_zh", "printer_problem", "where"]

Target = TcpTarget | SerialTarget | UsbTarget | FileTarget


@dataclass(frozen=True)
class Problem:
    """`text`: what is wrong and what to do, one Chinese line; `fix`: the action alone."""

    text: str
    fix: str


_STATE_FIX: dict[PrinterState, tuple[str, str]] = {
    PrinterState.PAPER_OUT: ("打印机缺纸", "装入新纸卷后合上上盖"),
    PrinterState.COVER_OPEN: ("打印机上盖打开", "合上打印机上盖"),
    PrinterState.JAM: ("打印机卡纸", "打开上盖取出卡住的纸，再合上"),
    PrinterState.RIBBON_OUT: ("打印机缺色带", "更换色带"),
    PrinterState.PAUSED: ("打印机已暂停", "按打印机上的暂停/恢复键"),
    PrinterState.ERROR: ("打印机故障", "关闭打印机电源，等 10 秒后重新开机"),
    PrinterState.PAPER_LOW: ("打印机纸将尽", "准备好新纸卷"),
}


def where(target: Target) -> str:
    """How staff find the device: IP and port, serial device, USB ids or file."""
    if isinstance(target, TcpTarget):
        host = f"[{target.host}]" if ":" in target.host else target.host
        return f"IP {host}:{target.port}"
    if isinstance(target, SerialTarget):
        return f"串口 {target.device}"
    if isinstance(target, UsbTarget):
        return f"USB {target.vendor_id:04x}:{target.product_id:04x}"
    return f"文件 {target.path}"


def _unreachable_fix(target: Target) -> str:
    if isinstance(target, TcpTarget):
        return f"检查网线和 {where(target)}"
    if isinstance(target, SerialTarget):
        return f"检查串口线和打印机电源（{where(target)}）"
    if isinstance(target, UsbTarget):
        return f"检查 USB 线和打印机电源（{where(target)}）"
    return f"检查{where(target)}是否可写"


def printer_problem(state: PrinterState, connected: bool, target: Target) -> Problem | None:
    """None when the printer prints (paper low included, which is a warning)."""
    if not connected or state is PrinterState.OFFLINE:
        fix = _unreachable_fix(target)
        return Problem(f"打印机无响应：{fix}", fix)
    if state is PrinterState.OK:
        return None
    what, fix = _STATE_FIX.get(state, ("打印机故障", "关闭打印机电源，等 10 秒后重新开机"))
    return Problem(f"{what}：{fix}", fix)
