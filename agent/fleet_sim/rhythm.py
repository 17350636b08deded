"""A simulated shop's business rhythm and the seeded schedule it makes (pure: no I/O, no clock).

Rates are per simulated hour; `speed` simulated seconds pass per real second, so a day of
trade fits in a test. Arrivals are Poisson (exponential gaps) drawn from one `random.Random`
per box seeded with (seed, box index): the same seed gives the same schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

ActionKind = Literal["sale", "handover", "print", "day_close", "offline"]


@dataclass(frozen=True)
class Rhythm:
    """How busy each simulated box is."""

    sales_per_hour: float = 30.0
    handovers_per_hour: float = 10.0
    print_jobs_per_hour: float = 6.0
    """Cloud print jobs HQ sends the box (submitted through HQ's API)."""
    day_close_every_h: float = 8.0
    """Simulated hours between day closes (0: none)."""
    offline_per_hour: float = 0.5
    offline_s: float = 120.0
    """Simulated seconds each offline spell lasts."""
    speed: float = 60.0
    """Simulated seconds per real second."""

    def __post_init__(self) -> None:
        for name in ("sales_per_hour", "handovers_per_hour", "print_jobs_per_hour",
                     "day_close_every_h", "offline_per_hour", "offline_s"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be a number >= 0")
        if not self.speed > 0:
            raise ValueError("speed must be a number > 0")


@dataclass(frozen=True)
class Action:
    """One thing a box does `at_s` real seconds after the start; `length_s` for offline spells."""

    at_s: float
    kind: ActionKind
    length_s: float = 0.0


def _poisson(rng: random.Random, per_hour: float, speed: float, duration_s: float,
             kind: ActionKind, length_s: float = 0.0) -> list[Action]:
    rate = per_hour * speed / 3600.0  # per real second
    out: list[Action] = []
    if rate <= 0:
        return out
    t = rng.expovariate(rate)
    while t < duration_s:
        out.append(Action(t, kind, length_s))
        t += rng.expovariate(rate)
    return out


def schedule(seed: int, index: int, rhythm: Rhythm, duration_s: float) -> list[Action]:
    """Box `index`'s actions over `duration_s` real seconds, in time order (ties: kind order)."""
    rng = random.Random(f"storelink-fleet:{seed}:{index}")
    acts = (_poisson(rng, rhythm.sales_per_hour, rhythm.speed, duration_s, "sale")
            + _poisson(rng, rhythm.handovers_per_hour, rhythm.speed, duration_s, "handover")
            + _poisson(rng, rhythm.print_jobs_per_hour, rhythm.speed, duration_s, "print"))
    spell = rhythm.offline_s / rhythm.speed
    acts += _poisson(rng, rhythm.offline_per_hour, rhythm.speed, duration_s, "offline", spell)
    if rhythm.day_close_every_h > 0:
        every = rhythm.day_close_every_h * 3600.0 / rhythm.speed
        # Boxes close at different moments, as shops do: a random phase per box.
        t = rng.uniform(0.0, every)
        while t < duration_s:
            acts.append(Action(t, "day_close"))
            t += every
    order = {"sale": 0, "handover": 1, "print": 2, "day_close": 3, "offline": 4}
    return sorted(acts, key=lambda a: (a.at_s, order[a.kind]))


def sale_body(rng: random.Random, n: int, till: str = "T1") -> dict[str, object]:
    """A valid sale record body: one to three lines of hardware, one payment method."""
    goods = (("JC-1001", "不锈钢合页 4寸", 850), ("LS-2002", "膨胀螺丝 M8", 35),
             ("DS-3003", "电源插座 五孔", 2990), ("GJ-4004", "内六角扳手套装", 4500))
    lines = []
    for _ in range(rng.randint(1, 3)):
        sku, name, price = goods[rng.randrange(len(goods))]
        qty = rng.randint(1, 5)
        lines.append({"sku": sku, "name": name, "qty": qty, "unit_price": price,
                      "amount": qty * price})
    total = sum(int(str(line["amount"])) for line in lines)
    method = ("cash", "wechat", "alipay", "card")[rng.randrange(4)]
    return {"order": f"XS-{n:06d}", "till": till, "cashier": "C001", "lines": lines,
            "total": total, "payments": [{"method": method, "amount": total}]}


def handover_body(rng: random.Random, task: str) -> dict[str, object]:
    """A valid handover of good pieces between two workers of the simulated workshop."""
    step = rng.choice((10, 20, 30))
    names = {10: "下料", 20: "冲压", 30: "打磨"}
    return {"task": task, "step": step, "step_name": names[step],
            "from_worker": f"W{rng.randint(1, 9):03d}", "to_worker": f"W{rng.randint(1, 9):03d}",
            "qty": rng.randint(1, 50), "piece_rate": 8}


def print_job(box: str, n: int) -> dict[str, object]:
    """A cloud print job for the box's `front` printer, numbered `n` within the box."""
    return {"box": box, "printer": "front",
            "job": {"id": f"{box}-job-{n:05d}", "printer": "front",
                    "document": {"blocks": [{"type": "text", "text": f"取货单 第{n}号"}]}}}
