"""The content revision as the page cache sees it: read at most once per interval per process."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..services.content import Revision

log = logging.getLogger("portal.page_cache")


def monotonic() -> float:
    """The clock the interval is measured on (tests replace it to step past the bound)."""
    return time.monotonic()


class RevisionClock:
    """The last revision read, read again once ``every`` seconds have passed.

    A hit costs no query: a change to the catalogue or the towns shows in this process at most
    ``every`` seconds after its commit. One thread reads while the others go on with the value
    they had; only the very first read makes them wait. When the read fails (the database is
    away) the last value is kept until the next interval.
    """

    def __init__(
        self,
        read: Callable[[], Revision],
        every: float,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.read = read
        self.every = every
        self.on_change = on_change
        self._value: Revision | None = None
        self._due = 0.0
        self._lock = threading.Lock()

    def current(self) -> Revision | None:
        """The revision to key pages by; ``None`` until it could be read once."""
        if monotonic() >= self._due and self._lock.acquire(blocking=self._value is None):
            try:
                if monotonic() >= self._due:
                    self._refresh()
            finally:
                self._lock.release()
        return self._value

    def _refresh(self) -> None:
        try:
            value = self.read()
        except Exception:  # the database is away: pages are rendered (or fail) as without us
            log.warning("page cache: the content revision could not be read", exc_info=True)
            self._due = monotonic() + self.every
            return
        if self._value is not None and value != self._value:
            self.on_change()
        self._value = value
        self._due = monotonic() + self.every
