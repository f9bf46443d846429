"""Inboxes with an S/MIME certificate get the whole request, encrypted; others get none of it."""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient

from portal.db import get_db
from portal.services import towns
from tests.conftest import Mailbox, answer_all, deliver, submit

SECRETS = ("GEHEIMER-TEXT", "Elif Demir", "Fatma Demir", "5207 123456", "elif@example.org")


def _certificate(days: int = 365) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Soziales Duo Postfach")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _set_certificate(app: Flask, slug: str, pem: str) -> None:
    with get_db(app).session() as session:
        town = towns.town_by_slug(session, slug)
        assert town is not None
        towns.set_certificate(session, town, pem)


def _raw(mailbox: Mailbox, address: str) -> bytes:
    raws = [e.original_content or b"" for e in mailbox.handler.messages]
    matching = [raw for raw in raws if address.encode() in raw.split(b"\r\n\r\n")[0]]
    assert len(matching) == 1
    return matching[0]


def _submit_and_deliver(app: Flask, client: FlaskClient, town: str = "shs") -> None:
    answer_all(client, overrides={"town": {"town": town}})
    assert submit(client).headers["Location"].endswith("/de/request/done")
    assert deliver(app).sent == 2


def _parts(inner: bytes) -> tuple[str, str]:
    entity = message_from_bytes(inner, policy=policy.default)
    assert isinstance(entity, EmailMessage)
    text = entity.get_body(("plain",))
    html = entity.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_an_inbox_with_a_certificate_gets_the_whole_request_encrypted(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    certificate, key = _certificate()
    _set_certificate(app, "shs", _pem(certificate))
    _submit_and_deliver(app, client)
    raw = _raw(mailbox, "soziales-duo-shs@example.org")
    for secret in SECRETS:
        assert secret.encode() not in raw
    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "application/pkcs7-mime"
    assert message.get_param("smime-type") == "enveloped-data"
    assert message["Subject"].startswith("[SD-") and "Neue Anfrage" in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] and message["Date"] and "portal@example.org" in message["From"]
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text, html = _parts(pkcs7.pkcs7_decrypt_der(payload, certificate, key, []))
    for body in (text, html):
        assert "GEHEIMER-TEXT" in body
        assert "Elif Demir" in body and "Fatma Demir" in body
        assert "5207 123456" in body and "elif@example.org" in body
        assert "Türkisch" in body and "Hilfe im Haushalt" not in body
        assert (
            "Pflege und Betreuung zu Hause" in body and "Fahrdienst, zum Beispiel zum Arzt" in body
        )
        assert (
            "Montag" in body and "Mittwoch" in body and "Die Person hört schlecht" in body
        )  # asked for someone else
    assert "<li>Montag</li>" in html and "- Pflege und Betreuung zu Hause" in text


def test_openssl_decrypts_what_arrived(
    app: Flask, client: FlaskClient, mailbox: Mailbox, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    certificate, key = _certificate()
    _set_certificate(app, "shs", _pem(certificate))
    _submit_and_deliver(app, client)
    (tmp_path / "mail.eml").write_bytes(_raw(mailbox, "soziales-duo-shs@example.org"))
    (tmp_path / "cert.pem").write_text(_pem(certificate))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    inner = subprocess.run(
        [
            "openssl",
            "smime",
            "-decrypt",
            "-in",
            "mail.eml",
            "-recip",
            "cert.pem",
            "-inkey",
            "key.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    ).stdout
    text, _html = _parts(inner)
    assert "GEHEIMER-TEXT" in text and "Elif Demir" in text


def test_the_town_without_a_certificate_gets_no_social_data(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    certificate, _key = _certificate()
    _set_certificate(app, "shs", _pem(certificate))
    _submit_and_deliver(app, client, town="verl")
    raw = _raw(mailbox, "soziales-duo-verl@example.org")
    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    decoded = "".join(
        part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
    )
    assert "Neue Anfrage" in decoded
    for secret in SECRETS:
        assert secret not in decoded and secret.encode() not in raw


@pytest.mark.parametrize(
    "pem", ["expired", "-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n"]
)
def test_an_unusable_certificate_still_sends_the_content_free_notification(
    app: Flask,
    client: FlaskClient,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
    pem: str,
) -> None:
    if pem == "expired":
        pem = _pem(_certificate(days=-1)[0])
    _set_certificate(app, "shs", pem)
    with caplog.at_level(logging.WARNING, logger="portal.mail"):
        _submit_and_deliver(app, client)
    raw = _raw(mailbox, "soziales-duo-shs@example.org")
    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    for secret in SECRETS:
        assert secret.encode() not in raw
    warnings = [r.getMessage() for r in caplog.records if r.name == "portal.mail"]
    assert len(warnings) == 1 and "shs" in warnings[0]
    assert "SD-" not in warnings[0] and "Demir" not in warnings[0]


def test_the_certificate_command_checks_shows_and_removes(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    good = tmp_path / "good.pem"
    good.write_text(_pem(_certificate()[0]))
    result = runner.invoke(args=["towns", "certificate", "--town", "verl", str(good)])
    assert result.exit_code == 0, result.output
    assert "CN=Soziales Duo Postfach" in result.output and "Valid until" in result.output
    expired = tmp_path / "expired.pem"
    expired.write_text(_pem(_certificate(days=-1)[0]))
    result = runner.invoke(args=["towns", "certificate", "--town", "verl", str(expired)])
    assert result.exit_code != 0 and "expired" in result.output
    with get_db(app).session() as session:
        town = towns.town_by_slug(session, "verl")
        assert town is not None and "BEGIN CERTIFICATE" in town.smime_certificate
    result = runner.invoke(args=["towns", "certificate", "--town", "verl", "--remove"])
    assert result.exit_code == 0, result.output
    with get_db(app).session() as session:
        town = towns.town_by_slug(session, "verl")
        assert town is not None and town.smime_certificate == ""
