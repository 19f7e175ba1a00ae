"""Status transitions that take time, as on AWS: a resource moves from a transitional
status (CREATING, UPDATING, DELETING, …) to the next one only after it has been looked
at a few times, so clients must really poll — and nothing is ever instant or stuck.

The number of looks is `CLOUDBRIDGE_EMULATOR_POLLS` (default 2).
"""

import os
from datetime import datetime, timezone
from typing import Any, Callable, Optional


def polls() -> int:
    return max(1, int(os.environ.get("CLOUDBRIDGE_EMULATOR_POLLS", "2")))


def now_iso() -> str:
    """An RFC 3339 timestamp with a zone, as AWS's JSON APIs send them."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def begin(obj: Any, attr: str, transitional: str, final: str, on_done: Optional[Callable[[], None]] = None) -> None:
    """Put `obj.<attr>` in `transitional`; it becomes `final` after a few looks."""
    setattr(obj, attr, transitional)
    obj._cb_transition = (attr, final, polls(), on_done)


def look(obj: Any) -> None:
    """Called whenever a client reads `obj`: advances a pending transition."""
    t = getattr(obj, "_cb_transition", None)
    if not t:
        return
    attr, final, left, on_done = t
    left -= 1
    if left > 0:
        obj._cb_transition = (attr, final, left, on_done)
        return
    obj._cb_transition = None
    setattr(obj, attr, final)
    if on_done:
        on_done()


def busy(obj: Any) -> bool:
    return bool(getattr(obj, "_cb_transition", None))
