"""Every catalog complete, current and consistent; pages really speak the chosen language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from flask.testing import FlaskClient

from portal.i18n import EASY_LANGUAGE, LOCALE_CODES, LOCALES
from portal.tools import check_translations

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"


def test_the_pot_file_matches_the_code() -> None:
    assert check_translations.stale_pot() == []


@pytest.mark.parametrize("catalog", [locale.catalog for locale in LOCALES if locale.code != "de"])
def test_every_catalog_is_complete_with_matching_placeholders(catalog: str) -> None:
    po_path = TRANSLATIONS / catalog / "LC_MESSAGES" / "messages.po"
    assert (
        check_translations.catalog_problems(po_path, check_translations.exempt_for(po_path)) == []
    )


def _copy_of(catalog: str, tmp_path: Path) -> tuple[Catalog, Path]:
    """The committed catalog, to be changed and written below ``tmp_path`` under its name."""
    with (TRANSLATIONS / catalog / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        read = read_po(handle)
    po_path = tmp_path / catalog / "LC_MESSAGES" / "messages.po"
    po_path.parent.mkdir(parents=True)
    return read, po_path


def _problems(catalog: Catalog, po_path: Path) -> list[str]:
    with po_path.open("wb") as handle:
        write_po(handle, catalog)
    return check_translations.catalog_problems(po_path, check_translations.exempt_for(po_path))


def test_leichte_sprache_holds_every_resident_message_and_no_staff_only_one(
    tmp_path: Path,
) -> None:
    locations = check_translations.message_locations()
    staff_only = next(
        msgid
        for msgid, files in locations.items()
        if all(path.startswith("templates/staff/") for path in files)
    )
    resident = "Hilfe anfragen"
    assert "templates/public/home.html" in locations[resident]
    catalog, po_path = _copy_of("de@ls", tmp_path)
    assert _problems(catalog, po_path) == []
    del catalog[resident]
    catalog.add(staff_only, "Ein Text")
    assert _problems(catalog, po_path) == [
        f"{po_path}: missing: {resident!r}",
        f"{po_path}: never shown here: {staff_only[:60]!r}",
    ]


def test_make_update_catalogs_leaves_staff_only_messages_out_of_leichte_sprache(
    tmp_path: Path,
) -> None:
    staff_only = next(iter(check_translations.easy_language_exempt()))
    catalog, po_path = _copy_of("de@ls", tmp_path)
    catalog.add(staff_only, "")
    with po_path.open("wb") as handle:
        write_po(handle, catalog)
    assert check_translations.prune(po_path) == 1
    assert (
        check_translations.catalog_problems(po_path, check_translations.exempt_for(po_path)) == []
    )


def test_other_languages_leave_no_staff_message_out_or_empty(tmp_path: Path) -> None:
    catalog, po_path = _copy_of("en", tmp_path)
    catalog["Eingang"].string = ""
    assert _problems(catalog, po_path) == [f"{po_path}: untranslated: 'Eingang'"]
    del catalog["Eingang"]
    assert _problems(catalog, po_path) == [f"{po_path}: missing: 'Eingang'"]
    assert check_translations.prune(po_path) == 0


def test_a_message_shared_by_staff_and_residents_is_not_exempt() -> None:
    exempt = check_translations.easy_language_exempt()
    shared = [
        msgid
        for msgid, files in check_translations.message_locations().items()
        if any(check_translations.never_in_easy_language(path) for path in files)
        and not all(check_translations.never_in_easy_language(path) for path in files)
    ]
    assert shared and not exempt & set(shared)


def _main_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"<[^>]+>", "", main)


@pytest.mark.parametrize("lang", [code for code in LOCALE_CODES if code != "de"])
def test_pages_are_translated(client: FlaskClient, lang: str) -> None:
    german = client.get("/de/request/").get_data(as_text=True)
    other = client.get(f"/{lang}/request/").get_data(as_text=True)
    if lang == EASY_LANGUAGE:  # German too, so the button may keep its name; the texts differ
        assert "Hilfe anfragen" in german and _main_text(other) != _main_text(german)
        return
    assert "Hilfe anfragen" in german and "Hilfe anfragen" not in other


# A number belongs in the code and reaches a message as a placeholder (with ngettext where it
# meets a noun), so changing it re-opens no translation. These are the true exceptions:
DIGITS_ALLOWED = (
    # Emergency numbers, the same all over Germany.
    r"\b112\b",
    r"\b110\b",
    r"116 117",
    # A law's article, paragraph or section ("Art. 9 Abs. 2 Buchstabe h", "§ 25 Abs. 2 Nr. 2",
    # "§§ 67a bis 67c"), and standards and protocols named by their number.
    r"(\bArt\.|§§?) \d+\w*( (Abs\.|Nr\.|Satz|bis|und|Buchstabe) \d*\w+)*",
    r"\bIPv6\b",
    r"\bWCAG 2\.1\b",
    r"\bEN 301 549\b",
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|<[^>]*>")


def digits_outside_placeholders(msgid: str) -> list[str]:
    """The numbers a msgid carries in its own text (placeholders, tags and the allowed
    exceptions left out)."""
    text = PLACEHOLDER.sub(" ", msgid)
    for allowed in DIGITS_ALLOWED:
        text = re.sub(allowed, " ", text)
    return re.findall(r"\d+", text)


def test_no_number_is_hard_coded_into_a_translatable_string() -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    offending = []
    for message in template:
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        for msgid in ids:
            if not msgid:
                continue
            if digits_outside_placeholders(msgid):
                offending.append(msgid)
    assert offending == []


def test_the_digit_check_sees_numbers_but_not_placeholders_or_emergency_numbers() -> None:
    assert digits_outside_placeholders("Höchstens 2000 Zeichen.") == ["2000"]
    assert digits_outside_placeholders("Das dauert etwa %(num)d Minuten.") == []
    assert digits_outside_placeholders("Im Notfall rufen Sie bitte sofort 112 an.") == []
    assert digits_outside_placeholders("nach Art. 6 Abs. 1 Buchstabe e DSGVO") == []


MAX_WORDS = 15  # Leichte Sprache: short sentences, one statement each (Netzwerk Leichte Sprache)


def _sentences(text: str) -> list[str]:
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}|%\([a-z_]+\)[sd]", "X", text, flags=re.S)
    text = re.sub(r"<br>|</(?:p|li|h[1-6]|dt|dd|div|td|th)>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return [
        sentence.strip()
        for line in text.split("\n")
        for sentence in re.split(r"(?<=[.!?:])\s+", line)
        if sentence.strip()
    ]


def test_sentences_in_leichte_sprache_are_short() -> None:
    texts = [path.read_text("utf-8") for path in (ROOT / "templates/public/ls").glob("*.html")]
    with (TRANSLATIONS / "de@ls/LC_MESSAGES/messages.po").open("rb") as handle:
        for message in read_po(handle):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            texts.extend(str(string) for string in strings if message.id and string)
    long = [s for text in texts for s in _sentences(text) if len(s.split()) > MAX_WORDS]
    assert long == []


def test_arabic_plurals_follow_the_catalogs_plural_rule() -> None:
    """Babel's rule for Arabic puts 100-102 in form 4 and 11-99 in form 5 (not CLDR's order of
    "many" and "other"): 11 to 99 things take the accusative singular ("11 يومًا"), 100 the
    genitive ("100 يوم"). Checked by the tanween that marks the accusative."""
    from babel.support import Translations

    arabic = Translations.load(str(TRANSLATIONS), ["ar"])
    with (TRANSLATIONS / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    wrong = []
    for message in catalog:
        if not message.pluralizable:
            continue
        forms = cast(tuple[str, ...], message.string)  # a plural's: one per plural form
        if forms[4] == forms[5]:
            continue
        eleven = arabic.ngettext(message.id[0], message.id[1], 11)
        hundred = arabic.ngettext(message.id[0], message.id[1], 100)
        if eleven.count("\u064b") <= hundred.count("\u064b"):
            wrong.append(message.id[0])
    assert wrong == []
