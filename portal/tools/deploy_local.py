"""The production pieces in deploy/, made runnable on one machine for tests and benchmarks.

`make bench-scale` and tests/integration/test_deploy_files.py run the very files an operator
installs: the nginx site with its ports, paths and certificate replaced, and the systemd
units' commands and environment with the checkout's path. When deploy/ changes so that a
replacement no longer finds its text, :class:`DeployFileChanged` says which.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "soziales-duo.conf"
UNITS = DEPLOY / "systemd"
INSTALLED_CHECKOUT = "/opt/soziales-duo"


class DeployFileChanged(RuntimeError):
    """A file in deploy/ no longer holds a text the local run replaces."""


@dataclass(frozen=True)
class LocalSite:
    """Where a local nginx listens and keeps its files, and where the app servers are."""

    folder: Path
    http_port: int
    https_port: int
    app_ports: tuple[int, int]
    certificate: Path
    key: Path


def _replace(text: str, old: str, new: str) -> str:
    if old not in text:
        raise DeployFileChanged(f"{NGINX_SITE.name} no longer contains {old!r}")
    return text.replace(old, new)


def nginx_site(site: LocalSite) -> str:
    """deploy/nginx/soziales-duo.conf with local ports, paths and certificate."""
    text = NGINX_SITE.read_text("utf-8")
    for old, new in (
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{site.app_ports[0]} "),
        ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{site.app_ports[1]} "),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{site.https_port} ssl http2;"),
        # On a port other than 443 the browser's Host (and so its Referer) carries the port.
        ("proxy_set_header Host $host;", "proxy_set_header Host $host:$server_port;"),
        ("listen [::]:443 ssl http2;", ""),
        ("listen 80;", f"listen 127.0.0.1:{site.http_port};"),
        ("listen [::]:80;", ""),
        ("/etc/letsencrypt/live/portal.example.org/fullchain.pem", str(site.certificate)),
        ("/etc/letsencrypt/live/portal.example.org/privkey.pem", str(site.key)),
        ("/var/cache/nginx/soziales-duo", str(site.folder / "cache")),
        ("/var/log/nginx/soziales-duo.access.log", str(site.folder / "access.log")),
        ("/var/www/letsencrypt", str(site.folder / "acme")),
        (f"{INSTALLED_CHECKOUT}/static/", f"{ROOT}/static/"),
    ):
        text = _replace(text, old, new)
    return text


def nginx_main(site: LocalSite) -> str:
    """A whole nginx.conf around the site, for an nginx started by the current user."""
    folder = site.folder
    for name in ("cache", "acme", "temp"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    # As root, nginx would run its workers as "nobody", who cannot read a private folder.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = folder / "temp"
    return (
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\ndaemon off;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        "    sendfile on;\n"
        f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
        f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n"
        f"    scgi_temp_path {temp}/scgi;\n    access_log off;\n"
        f"{nginx_site(site)}\n}}\n"
    )


def self_signed_certificate(folder: Path, name: str = "portal.example.org") -> tuple[Path, Path]:
    """A certificate for ``name`` and 127.0.0.1, valid for a day; returns (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "portal.crt", folder / "portal.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass(frozen=True)
class UnitCommand:
    """What a systemd unit starts: its command line and the environment it adds."""

    argv: list[str]
    environment: dict[str, str]


def unit_command(unit: str, instance: str = "", checkout: Path = ROOT) -> UnitCommand:
    """``ExecStart=`` and ``Environment=`` of ``deploy/systemd/<unit>``, for this checkout.

    ``%i`` becomes ``instance``; the installed checkout's path becomes ``checkout``.
    """
    argv: list[str] = []
    environment: dict[str, str] = {}
    for line in (UNITS / unit).read_text("utf-8").splitlines():
        key, _, value = line.partition("=")
        value = value.replace("%i", instance).replace(INSTALLED_CHECKOUT, str(checkout))
        if key == "ExecStart":
            argv = shlex.split(value)
        elif key == "Environment":
            name, _, setting = value.partition("=")
            environment[name] = setting
    if not argv:
        raise DeployFileChanged(f"{unit} has no ExecStart=")
    return UnitCommand(argv, environment)
