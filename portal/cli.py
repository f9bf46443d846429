"""``flask --app portal …`` commands: db, demo, staff, outbox, mail, retention, translations."""

from __future__ import annotations

import json
import signal
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import pyotp
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import crypto, housekeeping, labels, migrate
from .config import Settings, settings_of
from .db import get_db
from .i18n import CONTENT_LANGUAGES
from .mail import accounts as account_mail
from .mail import delivery, inbound, reminders
from .mail import digest as digest_mail
from .models import ROLES, StaffUser, utcnow
from .services import (
    accounts,
    audit,
    figures,
    hsds,
    keys,
    outbox,
    schedule,
    slots,
    smime,
    staff,
    towns,
)
from .services.errors import AccountExists, CertificateRefused, TownNeeded

db_cli = AppGroup("db", help="Create and upgrade the database schema.")
demo_cli = AppGroup("demo", help="Demo data for trying the portal on one machine.")
staff_cli = AppGroup("staff", help="Staff accounts.")
outbox_cli = AppGroup("outbox", help="The email outbox and its delivery worker.")
retention_cli = AppGroup("retention", help="Deleting data after its retention period.")
catalogue_cli = AppGroup("catalogue", help="The help catalogue as HSDS 3.0 JSON.")
DEMO_CATALOGUE = Path(__file__).parent / "data" / "demo-catalogue.hsds.json"
reminders_cli = AppGroup("reminders", help="Reminder emails the day before an appointment.")
schedule_cli = AppGroup("schedule", help="Consultation locations, hours and free slots.")
digest_cli = AppGroup("digest", help="The daily digest email of each town's inbox.")
towns_cli = AppGroup("towns", help="The member towns and their staff inboxes.")
CERTIFICATE_PROBLEMS = {
    "unparsable": "not a PEM certificate",
    "expired": "the certificate has expired",
    "not_yet_valid": "the certificate is not valid yet",
    "not_rsa": "only RSA keys can receive S/MIME enveloped mail",
    "key_usage": "the certificate's key usage does not allow key encipherment",
}
mail_cli = AppGroup("mail", help="Mail that comes back: replies, bounces, auto-replies.")
figures_cli = AppGroup("figures", help="Figures for the towns and the funder, kept as counts.")
keys_cli = AppGroup("keys", help="The keys that encrypt personal data at rest.")
EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again later


def _settings() -> Settings:
    settings = settings_of(current_app)
    return settings


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema, then seed the towns from configuration."""
    database = get_db(current_app)
    migrate.upgrade(database.engine)
    with database.session() as session:
        towns.seed_towns(session, _settings().towns())
        schedule.seed_locations(session, _settings().towns())
    click.echo(f"Database is up to date: {database.engine.url.render_as_string()}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a migration for model changes (developers only)."""
    migrate.revision(get_db(current_app).engine, message)


@db_cli.command("seed-inboxes")
def db_seed_inboxes() -> None:
    """Overwrite the towns' staff inboxes with the configured addresses."""
    with get_db(current_app).session() as session:
        towns.seed_towns(session, _settings().towns(), overwrite_inbox=True)
    click.echo("Town inboxes set from configuration.")


@staff_cli.command("create")
@click.option("--email", required=True)
@click.option(
    "--town",
    "town_slugs",
    multiple=True,
    help="Town slug (e.g. verl); needed for caseworkers; repeat it for several towns.",
)
@click.option("--role", type=click.Choice(ROLES), default="caseworker", show_default=True)
@click.option("--name", default="", help="Display name.")
def staff_create(email: str, town_slugs: tuple[str, ...], role: str, name: str) -> None:
    """Create an account (the first administrator) and print its one-time activation link.

    Its owner opens the link, sets a password and sets up the second factor; more colleagues
    are then invited from the staff area ("Konten").
    """
    with get_db(current_app).session() as session:
        chosen = []
        for slug in town_slugs:
            town = towns.town_by_slug(session, slug)
            if town is None:
                raise click.ClickException(f"Unknown town {slug!r}; run `db upgrade` first.")
            chosen.append(town)
        try:
            activation = accounts.invite(session, email, role, chosen, name)
        except TownNeeded:
            raise click.ClickException("A caseworker needs --town.") from None
        except AccountExists:
            raise click.ClickException(f"An account for {email} exists already.") from None
        with current_app.test_request_context(base_url=_settings().public_url):
            link = account_mail.activation_url(activation.token)
    click.echo(f"Created {role} {email}. Open this link within {accounts.ACTIVATION_HOURS} hours")
    click.echo("to set the password and the second factor (it works once):")
    click.echo(link)


@staff_cli.command("reset")
@click.option("--email", required=True)
def staff_reset(email: str) -> None:
    """Reset password and second factor of an account and print a new activation link.

    For an administrator who is locked out (lost phone and recovery codes, say); the account
    is enabled again and all its sessions end.
    """
    with get_db(current_app).session() as session:
        user = staff.account_by_email(session, email)
        if user is None:
            raise click.ClickException(f"No account for {email}.")
        accounts.reset_password(session, user)
        accounts.reset_factor(session, user)
        activation = accounts.resend_invitation(session, user)
        user.active = True
        audit.record(session, None, "account_reset_cli", detail=user.email)
        with current_app.test_request_context(base_url=_settings().public_url):
            link = account_mail.activation_url(activation.token)
    click.echo(f"Reset {email}. Open this link within {accounts.ACTIVATION_HOURS} hours")
    click.echo("to set a new password and second factor (it works once):")
    click.echo(link)


@staff_cli.command("totp-code")
@click.option("--email", required=True)
def staff_totp_code(email: str) -> None:
    """Print the current one-time code of an account (debug mode only, for the demo)."""
    if not _settings().debug:
        raise click.ClickException("Only available in debug mode.")
    with get_db(current_app).session() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
        if user is None or not user.totp_secret:
            raise click.ClickException("No such account.")
        click.echo(pyotp.TOTP(user.totp_secret).now())


@demo_cli.command("load")
def demo_load() -> None:
    """Create the demo staff accounts, one per town, and print how to sign in (debug only)."""
    if not _settings().debug:
        raise click.ClickException("Demo accounts are only created in debug mode.")
    password = "demo-portal-" + "verl-shs-2026"
    with get_db(current_app).session() as session:
        towns.seed_towns(session, _settings().towns())
        rules, closures = schedule.seed_demo_schedule(
            session, _settings().towns(), utcnow().astimezone(slots.BERLIN).date()
        )
        click.echo(f"Demo consultation hours: {rules} rules and {closures} closure added.")
        accounts = [
            (f"demo-{town.slug}@example.org", "caseworker", town, f"Demo {town.name}")
            for town in towns.all_towns(session)
        ] + [
            ("demo-koordination@example.org", "coordinator", None, "Demo Koordination"),
            ("demo-admin@example.org", "admin", None, "Demo Administration"),
        ]
        for email, role, town, name in accounts:
            user = session.scalar(select(StaffUser).where(StaffUser.email == email))
            if user is None:
                user = staff.create_staff(session, email, password, role, town, name)
            click.echo(f"Demo {role} {name}: {email} / {password}")
            click.echo(
                f"    TOTP secret {user.totp_secret} (or: flask --app portal staff totp-code --email {email})"
            )
        result = _import_catalogue(session, DEMO_CATALOGUE.read_text("utf-8"), replace=False)
    click.echo(
        f"Demo catalogue: {result.services} services of {result.organizations} organisations."
    )


def _import_catalogue(session: Session, source: str, replace: bool) -> hsds.Imported:
    return hsds.import_dataset(
        session, source, towns.names_to_slugs(session), CONTENT_LANGUAGES, replace=replace
    )


def _term_names(code: str) -> tuple[str, str]:
    with force_locale("de"):
        return str(labels.CATALOGUE_TOPICS[code]), str(labels.CATALOGUE_TOPIC_HINTS[code])


@catalogue_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Delete the whole catalogue first.")
def catalogue_import(path: Path, replace: bool) -> None:
    """Import an HSDS 3.0 catalogue file; nothing changes unless the whole file is sound."""
    try:
        source = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path}: not UTF-8 text ({exc.reason})") from None
    try:
        with get_db(current_app).session() as session:
            result = _import_catalogue(session, source, replace)
    except hsds.ImportRefused as refused:
        for problem in refused.problems:
            click.echo(f"{path}:{problem.line}: {problem.message}", err=True)
        raise click.ClickException(
            f"{len(refused.problems)} problem(s); nothing was imported."
        ) from None
    click.echo(f"Imported {result.services} services of {result.organizations} organisations.")


@catalogue_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def catalogue_export(path: Path) -> None:
    """Write the whole catalogue as one HSDS 3.0 file (use - for standard output)."""
    with get_db(current_app).session() as session:
        data = hsds.export_dataset(session, _term_names)
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if str(path) == "-":
        click.echo(text, nl=False)
        return
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, "utf-8")
    temporary.replace(path)
    click.echo(f"Exported {len(data['services'])} services to {path}.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option(
    "--interval", default=2.0, show_default=True, help="Seconds between passes when idle."
)
def outbox_work(once: bool, interval: float) -> None:
    """Deliver queued emails with retries and backoff until stopped."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        result = delivery.deliver_due(app)
        click.echo(f"sent={result.sent} retried={result.retried} failed={result.failed}")
        return
    stopping = {"now": False}

    def _stop(*_args: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"Delivering email through {app.config['MAIL_SERVER']}:{app.config['MAIL_PORT']}")
    delivery.work(app, interval=interval, should_stop=lambda: stopping["now"])


@outbox_cli.command("status")
def outbox_status() -> None:
    """Count messages per status and list recent failures."""
    with get_db(current_app).session() as session:
        counts = outbox.status_counts(session)
        for status in ("pending", "sending", "sent", "failed"):
            click.echo(f"{status:8} {counts.get(status, 0)}")
        for message in outbox.failed_messages(session):
            click.echo(
                f"failed #{message.id} {message.kind} after {message.attempts} attempts: "
                f"{message.last_error}"
            )


@outbox_cli.command("retry")
def outbox_retry() -> None:
    """Queue every failed message again."""
    with get_db(current_app).session() as session:
        click.echo(f"{outbox.retry_failed(session)} messages queued again.")


@mail_cli.command("receive")
@click.option("--recipient", default="", help="The envelope recipient (for VERP bounces).")
def mail_receive(recipient: str) -> None:
    """Handle one message from standard input, as an MTA pipe delivers it."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    raw = sys.stdin.buffer.read()
    try:
        received = inbound.receive(app, raw, recipient)
    except Exception:  # the database is down or something unforeseen: let the MTA retry
        inbound.log.exception("inbound mail not handled; asking the MTA to retry")
        sys.exit(EX_TEMPFAIL)
    click.echo(f"{received.mail.kind}{' (duplicate)' if received.duplicate else ''}")


@mail_cli.command("fetch")
def mail_fetch() -> None:
    """Handle the unseen messages of the IMAP mailbox and move them to the done folder."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not _settings().imap_host:
        raise click.ClickException("PORTAL_IMAP_HOST is not set.")
    result = inbound.fetch(app)
    click.echo(f"handled={result.handled} failed={result.failed}")
    if result.failed:
        sys.exit(EX_TEMPFAIL)


@retention_cli.command("purge")
@click.option("--now", "now_text", help="Pretend it is this ISO time (for tests and repairs).")
def retention_purge(now_text: str | None) -> None:
    """Delete what is past its retention period; a second run changes nothing."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    now = datetime.fromisoformat(now_text) if now_text else None
    if now is not None and now.tzinfo is None:
        raise click.ClickException("--now needs a time zone, e.g. 2026-12-01T03:00+01:00.")
    result = housekeeping.purge(app, now)
    click.echo(
        f"drafts deleted {result.drafts}, requests deleted {result.requests}, "
        f"bookings cleared {result.bookings}, "
        f"audit entries deleted {result.audit_entries}, emails deleted {result.outbox_messages}, "
        f"staff sessions deleted {result.staff_sessions}, security events deleted {result.security_events}, "
        f"receipts deleted {result.receipts}"
    )


@figures_cli.command("rebuild")
@click.option("--force", is_flag=True, help="Rebuild even where fewer requests than kept are left.")
def figures_rebuild(force: bool) -> None:
    """Count the anonymised requests afresh into the kept figures (after a repair)."""
    try:
        with get_db(current_app).session() as session:
            counted = figures.rebuild(
                session, utcnow().astimezone(slots.BERLIN).date(), force=force
            )
    except figures.FiguresWouldShrink as shrinking:
        months = ", ".join(f"{month} (town {town_id})" for month, town_id in shrinking.months)
        raise click.ClickException(
            f"the anonymised requests left give fewer requests than kept in {months}; "
            "nothing changed (use --force to rebuild anyway)"
        ) from None
    click.echo(f"figures rebuilt from {counted} anonymised requests")


@reminders_cli.command("send")
@click.option("--now", "now_text", help="Pretend it is this ISO time (with zone); for testing.")
def reminders_send(now_text: str | None) -> None:
    """Queue tomorrow's appointment reminders; each booking is reminded once."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    now = datetime.fromisoformat(now_text) if now_text else None
    if now is not None and now.tzinfo is None:
        raise click.ClickException("--now needs a time zone, e.g. 2026-12-01T18:00+01:00.")
    click.echo(f"{reminders.send_due_reminders(app, now)} reminders queued.")


@schedule_cli.command("show")
def schedule_show() -> None:
    """List the locations with their weekly hours, closures and free slots."""
    settings = _settings()
    policy = slots.Policy(settings.booking_horizon_days, settings.booking_lead_minutes)
    with get_db(current_app).session() as session:
        for location in slots.bookable_locations(session):
            free = slots.free_slots(session, location, utcnow(), policy)
            click.echo(f"{location.code:6} {location.name}: {len(free)} free slots")
            for rule in schedule.rules_of(session, location):
                click.echo(
                    f"       weekday {rule.weekday} {rule.start_time:%H:%M}-{rule.end_time:%H:%M}"
                    f" every {rule.slot_minutes} min"
                )
        for closure in schedule.closures(session):
            since = f" {closure.start_time:%H:%M}" if closure.start_time else ""
            until = f" {closure.end_time:%H:%M}" if closure.end_time else ""
            click.echo(
                f"closed {closure.first_day}{since} to {closure.last_day}{until}: {closure.reason}"
            )


@digest_cli.command("send")
@click.option("--day", "day_text", help="The day (YYYY-MM-DD) the digest is for; today by default.")
def digest_send(day_text: str | None) -> None:
    """Queue the daily digest for every town whose digest for that day is not sent yet."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--day") from None
    click.echo(f"{digest_mail.send_digests(app, day=day)} digests queued.")


@towns_cli.command("certificate")
@click.option("--town", "town_slug", required=True, help="Town slug (e.g. verl).")
@click.option(
    "--remove", is_flag=True, help="Remove the certificate: notifications without content."
)
@click.argument(
    "path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def towns_certificate(town_slug: str, remove: bool, path: Path | None) -> None:
    """Set the S/MIME certificate (PEM FILE) of a town's inbox, or --remove it."""
    if remove == (path is not None):
        raise click.UsageError("Give either a PEM FILE or --remove.")
    pem = "" if path is None else path.read_text("ascii", errors="replace")
    if pem:
        info = _checked_certificate(pem)
        click.echo(f"Subject: {info.subject}")
        click.echo(f"Valid until: {info.not_after:%Y-%m-%d %H:%M} UTC")
    with get_db(current_app).session() as session:
        town = towns.town_by_slug(session, town_slug)
        if town is None:
            raise click.ClickException(f"Unknown town {town_slug!r}; run `db upgrade` first.")
        towns.set_certificate(session, town, pem)
        name = town.name
    if pem:
        click.echo(f"New-request notifications to {name} now carry the request, encrypted.")
    else:
        click.echo(f"Certificate removed: notifications to {name} carry no content.")


@keys_cli.command("status")
def keys_status() -> None:
    """Show the keys in the ring and how many stored values each one encrypts."""
    database = get_db(current_app)
    ring = database.keyring
    with database.session() as session:
        counts = keys.key_counts(session)
    totals: dict[str, int] = {}
    for column_counts in counts.values():
        for kid, number in column_counts.items():
            totals[kid] = totals.get(kid, 0) + number
    click.echo(f"Keys from {ring.source}:")
    for kid in ring.key_ids:
        role = "encrypts and decrypts" if kid == ring.current_id else "decrypts only"
        click.echo(f"  {kid}  {role:22}  {totals.pop(kid, 0)} values")
    for kid, number in sorted(totals.items()):
        click.echo(f"  {kid}  NOT IN THE RING        {number} values (cannot be read)")
    for name, column_counts in counts.items():
        shown = ", ".join(f"{kid}: {n}" for kid, n in sorted(column_counts.items())) or "empty"
        click.echo(f"    {name}: {shown}")
    old = sum(n for c in counts.values() for kid, n in c.items() if kid != ring.current_id)
    click.echo(
        f"{old} values under older keys; run `flask --app portal keys rotate`."
        if old
        else "Every value is under the newest key."
    )


@keys_cli.command("rotate")
@click.option("--batch-size", default=keys.DEFAULT_BATCH, show_default=True, type=int)
def keys_rotate(batch_size: int) -> None:
    """Re-encrypt every value under the newest key, committing after each batch."""
    database = get_db(current_app)
    current = database.keyring.current_id
    for column in keys.encrypted_columns():
        moved, last = 0, 0
        while True:
            with database.session() as session:  # one transaction per batch
                batch = keys.rotate_batch(session, column, current, last, batch_size)
            if batch is None:
                break
            moved, last = moved + batch[0], batch[1]
        if moved:
            click.echo(f"{column.name}: {moved} values re-encrypted")
    click.echo(f"Every value is now under key {current}.")


@keys_cli.command("generate")
@click.option("--add", is_flag=True, help="Put the new key first in instance/encryption.keys.")
def keys_generate(add: bool) -> None:
    """Make a new random key; with --add it becomes the key that encrypts."""
    key = crypto.new_key()
    if not add:
        click.echo(key)
        return
    path = Path(current_app.instance_path) / crypto.KEY_FILE
    if get_db(current_app).keyring.source != str(path):
        raise click.ClickException(
            "The keys come from PORTAL_ENCRYPTION_KEYS: put this key first there, restart, "
            f"then run `keys rotate`: {key}"
        )
    old, index = crypto.parse_key_file(path.read_text("utf-8"))
    crypto.write_key_file(path, [key, *old], index)
    click.echo(
        f"Key {crypto.key_id(crypto.decode_key(key))} added to {path} and encrypts from the "
        "next start of each process (web servers and worker). Then run `keys rotate`."
    )


@keys_cli.command("retire")
@click.argument("key_id")
def keys_retire(key_id: str) -> None:
    """Remove an old key from instance/encryption.keys once no stored value needs it."""
    database = get_db(current_app)
    path = Path(current_app.instance_path) / crypto.KEY_FILE
    if database.keyring.source != str(path):
        raise click.ClickException("The keys come from configuration: remove it there.")
    if key_id == database.keyring.current_id:
        raise click.ClickException("This key encrypts new values; add a newer one first.")
    with database.session() as session:
        used = sum(c.get(key_id, 0) for c in keys.key_counts(session).values())
    if used:
        raise click.ClickException(f"{used} values still need key {key_id}: run `keys rotate`.")
    old, index = crypto.parse_key_file(path.read_text("utf-8"))
    kept = [key for key in old if crypto.key_id(crypto.decode_key(key)) != key_id]
    if len(kept) == len(old):
        raise click.ClickException(f"No key {key_id} in {path}.")
    crypto.write_key_file(path, kept, index)
    click.echo(f"Key {key_id} removed from {path}.")


def _checked_certificate(pem: str) -> smime.CertificateInfo:
    try:
        return smime.describe(smime.load_certificate(pem, utcnow()))
    except CertificateRefused as refused:
        problem = CERTIFICATE_PROBLEMS.get(refused.reason, refused.reason)
        raise click.ClickException(f"Certificate refused: {problem}.") from None


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for group in (
        db_cli,
        demo_cli,
        staff_cli,
        outbox_cli,
        retention_cli,
        reminders_cli,
        schedule_cli,
        catalogue_cli,
        towns_cli,
        digest_cli,
        mail_cli,
        figures_cli,
        keys_cli,
    ):
        app.cli.add_command(group)
