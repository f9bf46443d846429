"""``make run``: the portal, its delivery worker and a local mail catcher in one process."""

from __future__ import annotations

import threading
from pathlib import Path

from portal import create_app
from portal.config import settings_of
from portal.mail import delivery
from portal.tools import mailcatcher


def main() -> None:
    """Serve http://127.0.0.1:5000 until interrupted."""
    app = create_app()
    settings = settings_of(app)
    folder = Path(app.instance_path) / "mail"
    controller, _handler = mailcatcher.start(settings.mail_server, settings.mail_port, folder)
    print(
        f" * Mail catcher on {settings.mail_server}:{settings.mail_port}; messages are stored in {folder}"
    )
    stop = threading.Event()
    worker = threading.Thread(
        target=delivery.work,
        args=(app,),
        kwargs={"interval": 1.0, "should_stop": stop.is_set},
        daemon=True,
    )
    worker.start()
    print(" * Delivery worker started (flask --app portal outbox status shows the queue)")
    try:
        # Never the Werkzeug debugger: its console runs any Python code a visitor types.
        app.run(host="127.0.0.1", port=5000, use_reloader=False, use_debugger=False, threaded=True)
    finally:
        stop.set()
        controller.stop()


if __name__ == "__main__":
    main()
