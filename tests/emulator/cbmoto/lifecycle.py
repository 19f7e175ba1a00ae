"""Status transitions that take time, as on AWS: a resource moves from a transitional
status (CREATING, UPDATING, DELETING, …) to the next one after it has been looked at a
few times, or after some seconds even if nobody looks — so clients must really poll,
and nothing is ever instant or stuck.

`CLOUDBRIDGE_EMULATOR_POLLS` (default 2) looks, or `CLOUDBRIDGE_EMULATOR_SECONDS`
(default 3) seconds, whichever comes first.
"""

import os
import time
from datetime import datetime, timezone
from typing import Any, Callable, Optional


def polls() -> int:
    return max(1, int(os.environ.get("CLOUDBRIDGE_EMULATOR_POLLS", "2")))


def now_iso() -> str:
    """An RFC 3339 timestamp with a zone, as AWS's JSON APIs send them."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def seconds() -> float:
    return float(os.environ.get("CLOUDBRIDGE_EMULATOR_SECONDS", "3"))


def begin(obj: Any, attr: str, transitional: str, final: str, on_done: Optional[Callable[[], None]] = None) -> None:
    """Put `obj.<attr>` in `transitional`; it becomes `final` after a few looks."""
    setattr(obj, attr, transitional)
    obj._cb_transition = (attr, final, polls(), on_done, time.monotonic() + seconds())


def look(obj: Any, count: bool = True) -> None:
    """Called whenever a client reads `obj` (or, with `count=False`, whenever its status
    matters to another call): advances a pending transition."""
    t = getattr(obj, "_cb_transition", None)
    if not t:
        return
    attr, final, left, on_done, deadline = t
    left -= 1 if count else 0
    if left > 0 and time.monotonic() < deadline:
        obj._cb_transition = (attr, final, left, on_done, deadline)
        return
    obj._cb_transition = None
    setattr(obj, attr, final)
    if on_done:
        on_done()


def busy(obj: Any) -> bool:
    look(obj, count=False)
    return bool(getattr(obj, "_cb_transition", None))


def settle(objs: Any) -> None:
    """Let time-based transitions of `objs` complete (before a dependency check)."""
    for o in list(objs):
        look(o, count=False)
