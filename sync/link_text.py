"""Pure: a raw MQTT/socket error as one Chinese line for staff, for the box and HQ alike."""

from __future__ import annotations

_LINK_ERRORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("refused by broker", "not authorized", "bad user name"),
     "{peer}拒绝了本机的身份：检查本机证书或用户名密码"),
    (("certificate", "ssl", "tls"), "TLS 证书验证失败：检查证书是否过期、本机时间是否正确"),
    (("connection refused",), "{peer}拒绝连接：MQTT 服务未运行或端口不对"),
    (("name or service not known", "temporary failure in name resolution", "nodename nor"),
     "无法解析 {peer}地址：检查 DNS 和主机名配置"),
    (("network is unreachable", "no route to host"), "网络不通：检查网线或网络设置"),
    (("timed out", "timeout"), "连接 {peer}超时：检查网络和防火墙"),
    (("keepalive", "connection lost", "disconnected", "reset", "broken pipe"),
     "与 {peer}的连接中断：网络不稳定或服务器重启"),
)


def link_error_zh(raw: str, peer: str = "HQ 服务器") -> str:
    """`raw` (an exception's or paho's text) as staff read it; `peer` names the other end."""
    low = raw.lower()
    for needles, text in _LINK_ERRORS:
        if any(n in low for n in needles):
            return text.format(peer=peer)
    return f"与 {peer}的连接断开"
