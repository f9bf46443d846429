"""Reading mail that comes back: headers, delivery reports, auto-reply signs and reply text."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from flufl.bounce import all_failures
from mailparser_reply import EmailReplyParser

MAX_TEXT = 20_000
REFERENCE = re.compile(r"\bSD-\d{4}-\d{5}\b")
MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_HEADER_LINE = re.compile(r"^Message-ID:\s*(<[^<>\s]+@[^<>\s]+>)", re.I | re.M)
_STATUS_CODE = re.compile(r"\b[45]\.\d{1,3}\.\d{1,3}\b")
_REPORTERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_AUTO_SUBJECTS = re.compile(
    r"^\s*(automatische antwort|abwesenheitsnotiz|out of office|auto(matic)? ?reply|"
    r"autoreply|auto:|abwesend)",
    re.I,
)
_REPLY_PARSER = EmailReplyParser(languages=["de", "en"])


@dataclass(frozen=True)
class Bounce:
    """What a delivery report says: permanent or not, why, and which message it was about."""

    permanent: bool
    reason: str
    original_message_id: str


def parse(raw: bytes) -> EmailMessage:
    """Parse a raw RFC 5322 message."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header(message: Message, name: str) -> str:
    """One header as text; empty when missing or unreadable."""
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header must not stop the run
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def dedupe_key(message: Message, raw: bytes) -> str:
    """SHA-256 of the Message-ID, or of the raw bytes when there is none."""
    message_id = MESSAGE_ID.search(header(message, "Message-ID"))
    source = message_id.group(0).encode() if message_id else raw
    return hashlib.sha256(source).hexdigest()


def sender(message: Message) -> str:
    """The From address, lower-cased."""
    return parseaddr(header(message, "From"))[1].strip().lower()


def recipients(message: Message) -> list[str]:
    """Addresses the message was delivered to, as MTAs and clients record them."""
    values = [
        header(message, name)
        for name in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")
    ]
    return [address.lower() for _name, address in getaddresses(values) if address]


def referenced_ids(message: Message) -> list[str]:
    """The Message-IDs of In-Reply-To, then References (newest first)."""
    in_reply_to = MESSAGE_ID.findall(header(message, "In-Reply-To"))
    references = MESSAGE_ID.findall(header(message, "References"))
    return in_reply_to + list(reversed(references))


def subject_reference(subject: str) -> str | None:
    """The request reference ``SD-YYYY-NNNNN`` in a subject, if any."""
    match = REFERENCE.search(subject)
    return match.group(0) if match else None


def is_auto_reply(message: Message) -> bool:
    """RFC 3834 ``Auto-Submitted`` and the common out-of-office signs."""
    auto_submitted = header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if header(message, "X-Autoreply") or header(message, "X-Autorespond"):
        return True
    if header(message, "Precedence").lower() in {"auto_reply", "bulk", "junk"}:
        return True
    if header(message, "X-MS-Exchange-Inbox-Rules-Loop") or header(
        message, "X-Auto-Response-Suppress"
    ):
        return bool(_AUTO_SUBJECTS.match(header(message, "Subject")))
    return False


def looks_like_report(message: Message) -> bool:
    """A delivery report by its form: a DSN, or sent by a mailer daemon with a null sender."""
    if message.get_content_type() == "multipart/report":
        return True
    if header(message, "Return-Path").strip() == "<>":
        return True
    local = sender(message).partition("@")[0]
    return local in _REPORTERS or header(message, "From").lower().startswith("mailer-daemon")


def bounce(message: Message, raw: bytes) -> Bounce | None:
    """Detect a bounce with flufl.bounce; ``None`` when the message is no delivery report."""
    legacy = email.message_from_bytes(raw)  # flufl.bounce reads the compat32 model
    temporary, permanent = all_failures(legacy)
    if not (temporary or permanent):
        return None
    return Bounce(bool(permanent), _reason(message, raw), _original_message_id(message, raw))


def _reason(message: Message, raw: bytes) -> str:
    """The status and diagnostic code of a report, short; never the report's prose."""
    fields = _delivery_status_fields(message)
    code = fields.get("diagnostic-code", "")
    status = fields.get("status", "")
    if not status:
        match = _STATUS_CODE.search(raw.decode("utf-8", "replace"))
        status = match.group(0) if match else "5.0.0"
    return " ".join(f"{status} {code}".split())[:200]


def _delivery_status_fields(message: Message) -> dict[str, str]:
    """The per-recipient fields of the first recipient in a message/delivery-status part."""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:] or blocks:
            if isinstance(block, Message):
                return {key.lower(): header(block, key) for key in block}
    return {}


def _original_message_id(message: Message, raw: bytes) -> str:
    """The Message-ID of the returned original, from its message/rfc822 or headers part."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                found = MESSAGE_ID.search(header(inner, "Message-ID"))
                if found:
                    return found.group(0)
        elif kind == "text/rfc822-headers":
            match = _HEADER_LINE.search(_text_of(part))
            if match:
                return match.group(1)
    # Non-standard reports quote the original headers in their text.
    match = _HEADER_LINE.search(raw.decode("utf-8", "replace"))
    return match.group(1) if match else ""


def _text_of(part: Message) -> str:
    """A part's decoded text; empty when it cannot be decoded."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError, KeyError, AttributeError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def body_text(message: EmailMessage) -> str:
    """The message's text: the text/plain part, else its HTML converted to text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _text_of(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n")


def reply_text(message: EmailMessage) -> str:
    """The newest reply without quoted history, capped at :data:`MAX_TEXT` characters."""
    text = body_text(message)
    latest = _REPLY_PARSER.parse_reply(text) if text.strip() else ""
    return (latest or text).strip()[:MAX_TEXT]


class _TextExtractor(HTMLParser):
    """Collects an HTML body's text with line breaks at block elements."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "blockquote"})
    SKIP = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a block or a skipped element."""
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        """Close a block or a skipped element."""
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        """Keep visible text."""
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML body, paragraphs on their own lines."""
    extractor = _TextExtractor()
    extractor.feed(html)
    lines = [line.strip() for line in "".join(extractor.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
