"""The topic tree of docs/protocol.md: builders, a parser, and the box id rule.

Every box owns `storelink/v1/box/{box_id}/…`, so one broker ACL line
(`pattern readwrite storelink/v1/box/%u/#`) confines it to its own subtree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sync.protocol import ProtocolError

ROOT = "storelink/v1"
BOX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
HQ_ID = BOX_ID


class Up(StrEnum):
    """Box → HQ leaves under `storelink/v1/box/{box_id}/up/`."""

    BIRTH = "birth"
    DEATH = "death"
    TELEMETRY = "telemetry"
    JOURNAL = "journal"
    EVENTS = "events"


class Down(StrEnum):
    """HQ → box leaves under `storelink/v1/box/{box_id}/down/`."""

    JOURNAL_ACK = "journal-ack"
    EVENTS_ACK = "events-ack"
    PRINT = "print"
    COMMAND = "cmd"


def check_box_id(box_id: object, field: str = "box") -> str:
    """Return `box_id` if it can be one whole topic level (and an ACL `%u`), else ProtocolError."""
    if not isinstance(box_id, str) or not BOX_ID.fullmatch(box_id):
        raise ProtocolError(field, "must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a "
                                   "letter or digit")
    return box_id


def up(box_id: str, leaf: Up) -> str:
    """The topic a box publishes `leaf` on."""
    return f"{ROOT}/box/{check_box_id(box_id)}/up/{leaf.value}"


def down(box_id: str, leaf: Down) -> str:
    """The topic HQ publishes `leaf` to one box on."""
    return f"{ROOT}/box/{check_box_id(box_id)}/down/{leaf.value}"


def box_down_filter(box_id: str) -> str:
    """The one subscription a box needs: everything HQ sends it."""
    return f"{ROOT}/box/{check_box_id(box_id)}/down/#"


def hq_state(hq_id: str) -> str:
    """The retained online/offline state of one HQ worker."""
    return f"{ROOT}/hq/{check_box_id(hq_id, 'hq')}/state"


def hq_filters(share_group: str | None) -> list[str]:
    """HQ's subscriptions: births and deaths to every worker, the rest shared among workers.

    Shared subscriptions never receive retained messages (MQTT 5 §4.8.2), so births and deaths
    are subscribed without `$share` by every worker; the registry is idempotent by `bdseq`.
    """
    prefix = f"$share/{check_box_id(share_group, 'share_group')}/" if share_group else ""
    every = [f"{ROOT}/box/+/up/{Up.BIRTH.value}", f"{ROOT}/box/+/up/{Up.DEATH.value}"]
    shared = [f"{prefix}{ROOT}/box/+/up/{leaf.value}"
              for leaf in (Up.TELEMETRY, Up.JOURNAL, Up.EVENTS)]
    return every + shared


@dataclass(frozen=True)
class BoxTopic:
    """A parsed box topic: whose, which direction, which leaf."""

    box_id: str
    leaf: Up | Down


def parse_topic(topic: str) -> BoxTopic:
    """Parse `storelink/v1/box/{id}/{up|down}/{leaf}`; ProtocolError(`topic`) for anything else."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "storelink" or parts[1] != "v1" or parts[2] != "box":
        raise ProtocolError("topic", f"not a storelink/v1 box topic: {topic!r}")
    box_id = check_box_id(parts[3], "topic")
    direction, leaf = parts[4], parts[5]
    try:
        if direction == "up":
            return BoxTopic(box_id, Up(leaf))
        if direction == "down":
            return BoxTopic(box_id, Down(leaf))
    except ValueError:
        raise ProtocolError("topic", f"unknown {direction} leaf {leaf!r}") from None
    raise ProtocolError("topic", f"direction must be up or down, not {direction!r}")
