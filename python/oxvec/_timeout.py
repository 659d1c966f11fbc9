"""``timeout=`` for any engine call: a time limit for the calls this thread makes inside
``with time_limit(timeout):``, which the engine checks between units of work."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator

from ._oxvec import _set_call_timeout
from .exceptions import InvalidInputError
from .maintenance import as_seconds

__all__ = ["time_limit"]


@contextlib.contextmanager
def time_limit(timeout: datetime.timedelta | float | None) -> Iterator[None]:
    """Engine calls inside stop with :class:`~oxvec.TimedOutError` once ``timeout`` (a
    ``timedelta`` or seconds) has passed since each began; ``None`` sets no limit."""
    if timeout is None:
        yield
        return
    seconds = as_seconds(timeout, "timeout")
    if not seconds > 0:
        raise InvalidInputError(f"timeout must be a positive duration, got {timeout!r:.80}")
    before = _set_call_timeout(seconds)
    try:
        yield
    finally:
        _set_call_timeout(before)
