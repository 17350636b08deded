"""Validated reads from template data (JSON objects); errors name the dotted field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from drivers import InvalidInput

PAYMENT_METHODS = {"cash": "现金", "wechat": "微信", "alipay": "支付宝", "card": "银行卡",
                   "member": "会员储值", "credit": "挂账"}

MAX_MONEY = 10**13  # fen; far above any receipt, far below 2**53


def obj(v: object, path: str) -> Mapping[str, object]:
    """`v` as an object, or InvalidInput at `path`."""
    if not isinstance(v, Mapping):
        raise InvalidInput(path, "must be an object")
    return v


def items(o: Mapping[str, object], key: str, path: str, *, required: bool = True,
          max_items: int = 500) -> Sequence[object]:
    """A list field (empty when optional and absent)."""
    v = o.get(key)
    if v is None and not required:
        return []
    if not isinstance(v, list) or (required and not v):
        raise InvalidInput(f"{path}.{key}", "must be a non-empty list" if required
                           else "must be a list")
    if len(v) > max_items:
        raise InvalidInput(f"{path}.{key}", f"more than {max_items} items")
    return v


def text(o: Mapping[str, object], key: str, path: str, default: str | None = None,
         max_len: int = 200) -> str:
    """A string field; required unless `default` is given."""
    v = o.get(key, default)
    if v is None:
        raise InvalidInput(f"{path}.{key}", "is required")
    if not isinstance(v, str):
        raise InvalidInput(f"{path}.{key}", "must be a string")
    if len(v) > max_len:
        raise InvalidInput(f"{path}.{key}", f"longer than {max_len} characters")
    if any(ord(c) < 32 for c in v):
        raise InvalidInput(f"{path}.{key}", "must not contain control characters")
    return v


def integer(o: Mapping[str, object], key: str, path: str, default: int | None = None,
            lo: int = 0, hi: int = MAX_MONEY) -> int:
    """An integer field within [lo, hi]; money is always integer fen."""
    v = o.get(key, default)
    if v is None:
        raise InvalidInput(f"{path}.{key}", "is required")
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidInput(f"{path}.{key}", "must be an integer (money in fen)"
                           if isinstance(v, float) else "must be an integer")
    if not lo <= v <= hi:
        raise InvalidInput(f"{path}.{key}", f"must be {lo}-{hi}")
    return v


def timestamp(o: Mapping[str, object], key: str, path: str) -> datetime:
    """An ISO 8601 date-time field (the sender's local time, printed as given)."""
    raw = text(o, key, path, max_len=40)
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{path}.{key}", "must be an ISO 8601 date-time") from None


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 123456 → '1,234.56'."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


def yuan_upper(fen: int) -> str:
    """Fen in Chinese financial capitals (人民币大写): 123450 → '壹仟贰佰叁拾肆元伍角'."""
    if fen < 0:
        return "负" + yuan_upper(-fen)
    whole, jiao, fen_ = fen // 100, fen // 10 % 10, fen % 10
    out = ""
    if whole:
        sections: list[str] = []
        si = 0
        n = whole
        while n:
            part, n = n % 10000, n // 10000
            s = ""
            zero = False
            for ui in range(3, -1, -1):
                d = part // 10**ui % 10
                if d:
                    if zero and s:
                        s += "零"
                    s += _DIGITS[d] + _UNITS[ui]
                    zero = False
                else:
                    zero = True
            if part:
                s += _SECTIONS[si]
                if part < 1000 and n:
                    s = "零" + s
            elif sections and not sections[0].startswith("零"):
                s = "零"
            sections.insert(0, s)
            si += 1
        out = "".join(sections).rstrip("零").replace("零零", "零") + "元"
    if not jiao and not fen_:
        return (out or "零元") + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif whole:
        out += "零"
    if fen_:
        out += _DIGITS[fen_] + "分"
    return out
