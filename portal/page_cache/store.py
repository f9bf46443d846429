"""Where cached pages live: a bounded in-process LRU, or Redis shared by every app server."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger("portal.page_cache")

# Seconds a page stays in Redis. Keys carry the content revision and the deployment, so an old
# entry is never served after a change; the expiry only lets Redis forget what nobody asks for.
REDIS_TTL = 3600
# After Redis failed, this many seconds pass before the next try: meanwhile every page is a miss
# (Flask renders it), and no request waits for a dead connection.
REDIS_PAUSE = 5.0
REDIS_TIMEOUT = 0.25


@dataclass(frozen=True)
class Entry:
    """One stored answer: what Flask sent for a GET, and which endpoint rendered it."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    endpoint: str

    @property
    def size(self) -> int:
        """Roughly the bytes it holds in memory."""
        return len(self.body) + sum(len(n) + len(v) for n, v in self.headers) + 200

    def header(self, name: str) -> str | None:
        """The value of the header ``name`` (case-insensitive), if sent."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def dumps(self) -> bytes:
        """The entry as bytes for a shared store: a JSON line of facts, then the body.

        JSON, never pickle: whoever can write to Redis must not be able to run code here.
        """
        facts = {"s": self.status, "h": self.headers, "e": self.endpoint}
        return json.dumps(facts, separators=(",", ":")).encode() + b"\n" + self.body

    @classmethod
    def loads(cls, raw: bytes) -> Entry:
        """An entry from :meth:`dumps`."""
        line, _newline, body = raw.partition(b"\n")
        facts = json.loads(line)
        headers = tuple((str(n), str(v)) for n, v in facts["h"])
        return cls(str(facts["s"]), headers, body, str(facts["e"]))


class Store(Protocol):
    """What the page cache needs of a store."""

    def get(self, key: str) -> Entry | None:
        """The entry under ``key``, or ``None``."""

    def put(self, key: str, entry: Entry) -> None:
        """Keep ``entry`` under ``key`` (a store may drop it, e.g. when it is too large)."""

    def clear(self) -> None:
        """Forget every entry this store can forget cheaply (the content changed)."""


class MemoryStore:
    """An LRU of entries in this process, bounded by their total size in bytes.

    Each gunicorn worker holds its own; one page larger than an eighth of the bound is not kept.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.used = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        """The entry under ``key``, now the most recently used."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        """Keep ``entry``; the least recently used entries go until it fits."""
        if entry.size > self.max_entry:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.used -= old.size
            self._entries[key] = entry
            self.used += entry.size
            while self.used > self.max_bytes:
                _key, dropped = self._entries.popitem(last=False)
                self.used -= dropped.size

    def clear(self) -> None:
        """Forget everything (entries of an old revision are never asked for again)."""
        with self._lock:
            self._entries.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._entries)


class RedisStore:
    """Entries in Redis, shared by every process and app server that uses the same URI.

    Redis being away never fails a page: the page is rendered instead, and Redis is left alone
    for a few seconds before the next try.
    """

    def __init__(self, uri: str, prefix: str) -> None:
        self.client = redis.Redis.from_url(
            uri, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self.prefix = prefix
        self._paused_until = 0.0

    def get(self, key: str) -> Entry | None:
        """The entry under ``key``, or ``None`` (also while Redis is unreachable)."""
        if time.monotonic() < self._paused_until:
            return None
        try:
            raw = self.client.get(self.prefix + key)
        except redis.RedisError:
            self._pause()
            return None
        if not isinstance(raw, bytes):
            return None
        try:
            return Entry.loads(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("page cache: a damaged entry in Redis was ignored")
            return None

    def put(self, key: str, entry: Entry) -> None:
        """Keep ``entry`` for ``REDIS_TTL`` seconds."""
        if time.monotonic() < self._paused_until:
            return
        try:
            self.client.set(self.prefix + key, entry.dumps(), ex=REDIS_TTL)
        except redis.RedisError:
            self._pause()

    def clear(self) -> None:
        """Nothing to do: other processes may still serve the old revision for their bound,
        and old keys expire by themselves."""

    def _pause(self) -> None:
        log.warning("page cache: Redis unreachable; pages are rendered for %ss", REDIS_PAUSE)
        self._paused_until = time.monotonic() + REDIS_PAUSE
