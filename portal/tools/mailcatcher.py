"""A local SMTP server (aiosmtpd) that stores every message it receives as an .eml file."""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class MailboxHandler:
    """Writes each received message atomically to ``folder`` and keeps it in memory too."""

    def __init__(self, folder: Path | None = None, delay: float = 0.0) -> None:
        self.folder = folder
        self.delay = delay
        self.messages: list[Envelope] = []
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        """Store the message, after an optional delay that imitates a slow server."""
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        with self._lock:
            self.messages.append(envelope)
            number = next(self._counter)
        if self.folder is not None:
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{number:05d}.eml"
            temporary = self.folder / f".{name}.tmp"
            temporary.write_bytes(envelope.original_content or b"")
            os.replace(temporary, self.folder / name)
        return "250 Message accepted for delivery"


def start(
    host: str, port: int, folder: Path | None = None, delay: float = 0.0
) -> tuple[Controller, MailboxHandler]:
    """Start a catcher in a background thread; stop it with ``controller.stop()``."""
    handler = MailboxHandler(folder, delay)
    controller = Controller(handler, hostname=host, port=port, ready_timeout=10)
    controller.start()
    return controller, handler


def main() -> None:
    """Run the catcher in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--folder", type=Path, default=Path("instance/mail"))
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before accepting")
    args = parser.parse_args()
    controller, _handler = start(args.host, args.port, args.folder, args.delay)
    print(
        f"Mail catcher on {args.host}:{args.port}, storing messages in {args.folder.resolve()}",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
