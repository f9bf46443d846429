"""Fail when the .pot is stale or a catalog has an empty, fuzzy or mismatched entry."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|<[^>]+>")


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


def catalog_problems(po_path: Path) -> list[str]:
    """Empty, fuzzy or placeholder-mismatched entries of one catalog."""
    problems = []
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
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
    """Print every problem; exit 1 if there is any."""
    problems = stale_pot()
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        problems.extend(catalog_problems(po_path))
    for problem in problems:
        print(problem)
    print(f"translations: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
