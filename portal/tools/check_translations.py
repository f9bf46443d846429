"""Fail when the .pot is stale or a catalog has an empty, fuzzy or mismatched entry."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import tempfile
from collections.abc import Collection
from fnmatch import fnmatchcase
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from ..i18n import EASY_LANGUAGE, catalog_of

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|<[^>]+>")
EASY_LANGUAGE_CATALOG = catalog_of(EASY_LANGUAGE)  # de@ls

# Files never rendered in Leichte Sprache. The staff area, its forms and its emails stay German
# (``/ls/staff/…`` redirects to ``/de/staff/…``); the full legal texts are replaced for Leichte
# Sprache readers by their own pages (templates/public/ls/), written directly in Leichte Sprache.
# A message used ONLY in these files is left out of the de@ls catalog (``make update-catalogs``
# prunes it; gettext shows the German source if one ever were rendered); a message used anywhere
# else must be in it, written in Leichte Sprache like every other translation.
NOT_IN_EASY_LANGUAGE = (
    "portal/views/staff/*",
    "templates/staff/*",
    "portal/forms/accounts.py",
    "portal/forms/hours.py",
    "portal/forms/towns.py",
    "portal/forms/catalogue_editing.py",
    "portal/forms/figures.py",
    "portal/forms/staff.py",
    "portal/forms/staff_entry.py",
    "portal/mail/accounts.py",
    "portal/mail/digest.py",
    "portal/mail/inbound.py",
    "templates/emails/staff_*",
    "templates/emails/_staff_*",
    "templates/public/privacy.html",
    "templates/public/accessibility.html",
)


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {str(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id}


def stale_pot() -> list[str]:
    """Messages in the code that the committed .pot lacks, or the other way round."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "-F",
                str(TRANSLATIONS / "babel.cfg"),
                "-k",
                "_l",
                "-k",
                "lazy_gettext",
                "--no-location",
                "-o",
                str(fresh),
                str(ROOT),
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        new, old = _ids(fresh), _ids(TRANSLATIONS / "messages.pot")
    return [f"not in messages.pot: {m!r}" for m in sorted(new - old)] + [
        f"no longer used: {m!r}" for m in sorted(old - new)
    ]


def _msgid(message: str | tuple[str, ...] | list[str]) -> str:
    return message if isinstance(message, str) else message[0]


@functools.cache
def message_locations() -> dict[str, frozenset[str]]:
    """Every msgid in the code (as ``make extract`` finds it) and the files that use it."""
    with (TRANSLATIONS / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.setdefault(_msgid(message), set()).add(Path(filename).as_posix())
    return {msgid: frozenset(files) for msgid, files in found.items()}


def never_in_easy_language(path: str) -> bool:
    """Whether the file at ``path`` (relative to the project) is never rendered in Leichte Sprache."""
    return any(fnmatchcase(path, pattern) for pattern in NOT_IN_EASY_LANGUAGE)


def easy_language_exempt() -> frozenset[str]:
    """The msgids used only in files never rendered in Leichte Sprache."""
    return frozenset(
        msgid
        for msgid, files in message_locations().items()
        if all(never_in_easy_language(path) for path in files)
    )


def exempt_for(po_path: Path) -> frozenset[str]:
    """The msgids the catalog at ``po_path`` leaves out (only de@ls leaves any out)."""
    if po_path.parent.parent.name == EASY_LANGUAGE_CATALOG:
        return easy_language_exempt()
    return frozenset()


def prune(po_path: Path) -> int:
    """Drop the messages the catalog at ``po_path`` leaves out; how many were dropped."""
    left_out = exempt_for(po_path)
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    dropped = [m.id for m in catalog if m.id and _msgid(m.id) in left_out]
    for msgid in dropped:
        del catalog[msgid]
    if dropped:
        with po_path.open("wb") as handle:
            write_po(handle, catalog, width=76, no_location=True)
    return len(dropped)


def catalog_problems(po_path: Path, left_out: Collection[str] = ()) -> list[str]:
    """Empty, fuzzy or placeholder-mismatched entries of one catalog; messages of the .pot it
    lacks, and messages it holds though they belong to ``left_out``."""
    problems = []
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    expected_ids = _ids(TRANSLATIONS / "messages.pot") - set(left_out)
    held = {_msgid(m.id) for m in catalog if m.id}
    problems += [f"{po_path}: missing: {m[:60]!r}" for m in sorted(expected_ids - held)]
    problems += [f"{po_path}: never shown here: {m[:60]!r}" for m in sorted(held & set(left_out))]
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        label = ids[0][:60]
        if message.fuzzy:
            problems.append(f"{po_path}: fuzzy: {label!r}")
        if not all(strings):
            problems.append(f"{po_path}: untranslated: {label!r}")
            continue
        expected = sorted(PLACEHOLDER.findall(str(ids[0])))
        for string in strings:
            found = sorted(PLACEHOLDER.findall(str(string)))
            if found != expected and not (len(ids) > 1 and set(found) <= set(expected)):
                problems.append(f"{po_path}: placeholders {found} != {expected}: {label!r}")
    return problems


def main() -> int:
    """Print every problem; exit 1 if there is any. With ``--prune``, first drop from each
    catalog the messages it leaves out (``make update-catalogs`` does this)."""
    if "--prune" in sys.argv[1:]:
        for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
            if dropped := prune(po_path):
                print(f"{po_path}: left out {dropped} messages never shown in this language")
        return 0
    problems = stale_pot()
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        problems.extend(catalog_problems(po_path, exempt_for(po_path)))
    for problem in problems:
        print(problem)
    print(f"translations: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
