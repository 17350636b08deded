"""The upgrade trial as a pure state machine (`now_ms` passed in): begun when the box switches
to a new release, committed when that release reports healthy before the deadline, rolled back
by the guard at a start past the deadline or after too many starts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Literal

Phase = Literal["trial", "committed", "rolled_back"]
DEADLINE_MS = 300_000
MAX_STARTS = 3


@dataclass(frozen=True)
class Trial:
    """The last upgrade: from release `previous` to `target`, its phase and why it ended."""

    previous: str
    target: str
    phase: Phase
    began_ms: int
    deadline_ms: int
    starts: int = 0
    max_starts: int = MAX_STARTS
    ended_ms: int | None = None
    reason: str = ""

    def to_json(self) -> str:
        """The state file's text."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Trial:
        """Parse the state file; ValueError when it is not one this program wrote."""
        o = json.loads(text)
        if not isinstance(o, dict) or o.get("phase") not in ("trial", "committed", "rolled_back"):
            raise ValueError("not an upgrade state")
        try:
            return cls(**o)
        except TypeError as e:
            raise ValueError(f"not an upgrade state: {e}") from None


@dataclass(frozen=True)
class Decision:
    """What to do now: run `release` (switching `current` to it first if `switch`); `commit`:
    the running release becomes the one to fall back to (`good`)."""

    trial: Trial | None
    release: str
    switch: bool = False
    commit: bool = False
    line: str = ""


def begin(previous: str, target: str, now_ms: int, deadline_ms: int = DEADLINE_MS,
          max_starts: int = MAX_STARTS) -> Trial:
    """A trial of `target`, falling back to `previous`, healthy due by now + deadline."""
    return Trial(previous, target, "trial", now_ms, now_ms + deadline_ms, 0, max_starts)


def on_start(trial: Trial | None, current: str, now_ms: int) -> Decision:
    """Before the daemon starts (the guard): count the start of a release on trial, or roll
    back when its deadline passed or it has used up its starts without reporting healthy."""
    if trial is None or trial.phase != "trial" or current != trial.target:
        return Decision(trial, current)
    why = ""
    if now_ms >= trial.deadline_ms:
        secs = (trial.deadline_ms - trial.began_ms) // 1000
        why = f"not healthy within {secs} s"
    elif trial.starts >= trial.max_starts:
        why = f"started {trial.starts} times without reporting healthy"
    if why:
        ended = replace(trial, phase="rolled_back", ended_ms=now_ms, reason=why)
        return Decision(ended, trial.previous, True, False,
                        f"升级失败，已回滚 / upgrade to {trial.target} rolled back to "
                        f"{trial.previous}: {why}")
    return Decision(replace(trial, starts=trial.starts + 1), current)


def on_healthy(trial: Trial | None, running: str, now_ms: int) -> Decision:
    """The running release reports healthy: commit its trial if within the deadline; past it
    the trial is lost and the box returns to the previous release."""
    if trial is None or trial.phase != "trial" or running != trial.target:
        return Decision(trial, running)
    if now_ms >= trial.deadline_ms:
        secs = (trial.deadline_ms - trial.began_ms) // 1000
        why = f"healthy only after the {secs} s deadline"
        ended = replace(trial, phase="rolled_back", ended_ms=now_ms, reason=why)
        return Decision(ended, trial.previous, True, False,
                        f"升级失败，已回滚 / upgrade to {trial.target} rolled back to "
                        f"{trial.previous}: {why}")
    done = replace(trial, phase="committed", ended_ms=now_ms, reason="healthy")
    return Decision(done, running, False, True,
                    f"升级完成 / upgrade to {running} committed (healthy after "
                    f"{(now_ms - trial.began_ms) // 1000} s, start {trial.starts})")
