"""What the request observer (request id, JSON log line, latency histogram) costs per request.

Calls a bare WSGI app that returns a fixed page, with and without ``portal.observe``'s
middleware around it, in this process (no server, no network), and prints the difference in
microseconds: the median of several rounds, and their spread. The log line is formatted and
written to /dev/null, as JSON in production. Runs once with the metrics of this process only,
then once more in a child process in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, as under
gunicorn with several workers).

    PYTHONPATH=. .venv/bin/python scripts/bench_observe.py
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

ROUNDS = 7
CALLS = 20_000
PAGE = b"<!doctype html><title>Soziales Duo</title>" + b"x" * 6000


def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI app that does nothing but answer the page (as a cache hit would)."""
    environ["portal.endpoint"] = "public.home"
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(PAGE)))])
    return [PAGE]


def _start(_status: str, _headers: list[tuple[str, str]], _exc: Any = None) -> None:
    return None


def per_call(app: Callable[..., Iterable[bytes]]) -> float:
    """CPU seconds per request, as a WSGI server drives it: call, iterate, close (CPU time,
    not wall time, so other work on the machine disturbs the figure less)."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/de/", "wsgi.url_scheme": "http"}
    started = time.process_time()
    for _ in range(CALLS):
        body = app(dict(environ), _start)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return (time.process_time() - started) / CALLS


def measure() -> None:
    """Print the observer's cost per request in this process's metrics mode."""
    from portal import logs
    from portal.observe import RequestObserver

    handler = logs.configure(readable=False)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    logging.getLogger("portal").setLevel(logging.INFO)
    observed = RequestObserver(bare, trust_request_id=False)
    per_call(bare), per_call(observed)  # warm up
    costs = []
    for _ in range(ROUNDS):
        costs.append((per_call(observed) - per_call(bare)) * 1e6)
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "single-process"
    print(
        f"observer CPU cost per request ({mode} metrics, JSON line to /dev/null): "
        f"median {statistics.median(costs):.1f} µs, min {min(costs):.1f}, max {max(costs):.1f} "
        f"({ROUNDS} rounds of {CALLS} requests)"
    )


def main() -> None:
    """Measure here, then in a child process in multiprocess mode."""
    measure()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        subprocess.run([sys.executable, __file__], env=env, check=True)


if __name__ == "__main__":
    main()
