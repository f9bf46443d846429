"""Abuse limits: shared rate-limit counters in Redis, IPv6 by /64, proxies, quotas per contact."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.config import ConfigError
from portal.db import get_db
from portal.models import Booking, HelpRequest
from tests.booking_support import confirm, seed_schedule, walk_booking
from tests.conftest import Mailbox, answer_all, deliver, post_form, submit

ROOT = Path(__file__).resolve().parents[2]


def _redis(uri: str) -> Any:
    return redis.Redis.from_url(uri)


@pytest.fixture
def redis_prefix(redis_server: str) -> Any:
    """A fresh key prefix in the test Redis; its keys are removed afterwards."""
    client = _redis(redis_server)
    prefix = f"portal-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


# One app server: its own process, its own app, posting feedback from one visitor address.
_POSTER = """
import json, sys
from portal import create_app
from portal.db import get_db
from tests.conftest import post_form
config, count, address = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
app = create_app(config)
client = app.test_client()
client.environ_base["REMOTE_ADDR"] = address
codes = [
    post_form(client, "/de/barrierefreiheit", {"message": "Kontrast zu schwach"}).status_code
    for _ in range(count)
]
get_db(app).engine.dispose()
print(json.dumps(codes))
"""


def _post_in_another_process(config: dict[str, Any], count: int, address: str) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", _POSTER, json.dumps(config), str(count), address],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_two_app_servers_share_one_limit_in_redis(
    app: Flask, app_config: dict[str, Any], redis_prefix: str, redis_server: str
) -> None:
    config = {
        **app_config,
        "ratelimit_disabled": False,
        "rate_limit_submit": "3 per hour",
        "rate_limit_storage_uri": redis_server,
        "rate_limit_key_prefix": redis_prefix,
    }
    first = _post_in_another_process(config, 2, "2001:db8:1:2::10")
    # The second server sees the same visitor (another address in the same /64): one post left.
    second = _post_in_another_process(config, 2, "2001:db8:1:2:ffff::99")
    # Another /64 and an IPv4 address have their own counters.
    other = _post_in_another_process(config, 1, "2001:db8:1:3::10")
    ipv4 = _post_in_another_process(config, 1, "192.0.2.7")
    assert (first, second, other, ipv4) == ([302, 302], [302, 429], [302], [302])
    assert any(
        redis_prefix.encode() in key for key in _redis(redis_server).scan_iter(f"*{redis_prefix}*")
    )


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
        ("2001:db8:aa:bb:ffff:ffff:ffff:ffff", "2001:db8:aa:bb::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.2", "192.0.2.2"),
    ],
)
def test_the_limit_key_is_the_ipv6_network_or_the_ipv4_address(
    app: Flask, address: str, key: str
) -> None:
    from portal.security import client_key

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": address}):
        assert client_key() == key


def test_behind_a_proxy_each_visitor_has_their_own_limit(app_config: dict[str, Any]) -> None:
    app = create_app(
        {
            **app_config,
            "ratelimit_disabled": False,
            "rate_limit_submit": "1 per hour",
            "proxy_count": 1,
            "rate_limit_key_prefix": f"proxy-{uuid.uuid4().hex}",
        }
    )
    client = app.test_client()
    codes = []
    for visitor in ("198.51.100.1", "198.51.100.2", "198.51.100.1"):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = visitor
        codes.append(post_form(client, "/de/barrierefreiheit", {"message": "Kontrast"}).status_code)
    get_db(app).engine.dispose()
    assert codes == [302, 302, 429]


def test_https_without_proxy_count_refuses_to_start(app_config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="PORTAL_PROXY_COUNT"):
        create_app({**app_config, "public_url": "https://portal.example.org"})
    app = create_app({**app_config, "public_url": "https://portal.example.org", "proxy_count": 1})
    get_db(app).engine.dispose()


def test_a_rate_limit_hit_is_logged_without_the_address(
    app_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        {
            **app_config,
            "ratelimit_disabled": False,
            "rate_limit_submit": "1 per hour",
            "rate_limit_key_prefix": f"log-{uuid.uuid4().hex}",
        }
    )
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        for _ in range(2):
            post_form(client, "/de/barrierefreiheit", {"message": "Kontrast"})
    get_db(app).engine.dispose()
    [record] = [r for r in caplog.records if r.name == "portal.security"]
    assert "public.accessibility" in record.getMessage() and "1 per 1 hour" in record.getMessage()
    assert "203.0.113" not in record.getMessage()


def _quota_app(app_config: dict[str, Any], **extra: Any) -> Flask:
    return create_app(
        {
            **app_config,
            "ratelimit_disabled": False,
            "rate_limit_submit": "100 per hour",
            "confirmation_mails_per_day": 2,
            "rate_limit_key_prefix": f"quota-{uuid.uuid4().hex}",
            **extra,
        }
    )


def test_confirmations_to_one_address_stop_after_the_daily_cap_but_requests_still_arrive(
    app: Flask, app_config: dict[str, Any], mailbox: Mailbox
) -> None:
    quota_app = _quota_app(app_config)
    client = quota_app.test_client()
    pages = []
    for _ in range(3):
        answer_all(client)
        pages.append(client.get(submit(client).headers["Location"]).get_data(as_text=True))
    deliver(quota_app)
    with get_db(quota_app).session() as session:
        assert session.query(HelpRequest).count() == 3
    assert len(mailbox.to("elif@example.org")) == 2
    assert len(mailbox.to("soziales-duo-shs@example.org")) == 3
    assert "keine weitere Bestätigung" not in pages[1]
    assert "keine weitere Bestätigung per E-Mail" in pages[2]
    # The address is counted however it is written; another address has its own quota.
    answer_all(client, overrides={"details": {"email": "ELIF@example.org"}})
    submit(client)
    answer_all(client, overrides={"details": {"email": "other@example.org"}})
    submit(client)
    deliver(quota_app)
    get_db(quota_app).engine.dispose()
    assert len(mailbox.to("elif@example.org")) == 2
    assert len(mailbox.to("ELIF@example.org")) == 0
    assert len(mailbox.to("other@example.org")) == 1


def test_the_confirmation_quota_is_shared_through_redis_and_holds_no_address(
    app: Flask, app_config: dict[str, Any], redis_prefix: str, redis_server: str
) -> None:
    from portal.security import confirmation_allowed

    apps = [
        _quota_app(
            app_config, rate_limit_storage_uri=redis_server, rate_limit_key_prefix=redis_prefix
        )
        for _ in range(2)
    ]
    answers = []
    for server in (*apps, *apps):
        with server.test_request_context("/"):
            answers.append(confirmation_allowed("elif@example.org"))
    for server in apps:
        get_db(server).engine.dispose()
    assert answers == [True, True, False, False]
    keys = b" ".join(_redis(redis_server).scan_iter(f"*{redis_prefix}*"))
    assert b"confirmation" in keys and b"elif" not in keys


def _book(client: FlaskClient, index: int, email: str, phone: str = "") -> str:
    details = {"name": "Anna Schmidt", "email": email, "phone": phone}
    walk_booking(client, slot_index=index, details=details)
    return str(confirm(client).headers["Location"])


def test_upcoming_bookings_per_contact_are_capped_with_a_clear_message(
    app: Flask, app_config: dict[str, Any]
) -> None:
    seed_schedule(app)
    capped = _quota_app(app_config, bookings_per_contact=2, confirmation_mails_per_day=50)
    client = capped.test_client()
    assert _book(client, 0, "anna@example.org", "05246 12345").endswith("/booking/done")
    # The same phone number, written another way, with another address: the second booking.
    assert _book(client, 1, "b@example.org", "+49 5246 12345").endswith("/booking/done")
    # A third with that phone number is refused, and the page says why.
    assert _book(client, 2, "c@example.org", "0049 5246 12345").endswith("/booking/check")
    page = client.get("/de/booking/check").get_data(as_text=True)
    assert "schon 2 Termine gebucht" in page and "sagen Sie zuerst einen Termin ab" in page
    # The email address is compared whatever its case.
    assert _book(client, 3, "ANNA@example.org").endswith("/booking/done")
    assert _book(client, 4, "anna@example.org").endswith("/booking/check")
    with get_db(capped).session() as session:
        assert session.query(Booking).count() == 3
        first = session.query(Booking).filter_by(phone_index="+49 5246 12345").first()
        assert first is not None
        first.status = "cancelled"
        session.commit()
    # A cancelled appointment frees the place for a new one.
    assert _book(client, 5, "anna@example.org").endswith("/booking/done")
    get_db(capped).engine.dispose()


def test_with_redis_down_limits_count_in_memory_and_confirmations_still_go(
    app: Flask, app_config: dict[str, Any], mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.conftest import free_port

    down = f"redis://127.0.0.1:{free_port()}/3"
    sending = _quota_app(app_config, rate_limit_storage_uri=down)
    client = sending.test_client()
    answer_all(client)
    assert submit(client).status_code == 302
    deliver(sending)
    get_db(sending).engine.dispose()
    assert len(mailbox.to("elif@example.org")) == 1
    assert "confirmation quota storage unavailable" in caplog.text
    limited = _quota_app(app_config, rate_limit_storage_uri=down, rate_limit_submit="1 per hour")
    client = limited.test_client()
    codes = [
        post_form(client, "/de/barrierefreiheit", {"message": "Kontrast"}).status_code
        for _ in range(2)
    ]
    get_db(limited).engine.dispose()
    assert codes == [302, 429]
