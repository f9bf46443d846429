"""Every catalog complete, current and consistent; pages really speak the chosen language."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from portal.i18n import LOCALE_CODES, LOCALES
from portal.tools import check_translations

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def test_the_pot_file_matches_the_code() -> None:
    assert check_translations.stale_pot() == []


@pytest.mark.parametrize("catalog", [locale.catalog for locale in LOCALES if locale.code != "de"])
def test_every_catalog_is_complete_with_matching_placeholders(catalog: str) -> None:
    assert (
        check_translations.catalog_problems(TRANSLATIONS / catalog / "LC_MESSAGES" / "messages.po")
        == []
    )


@pytest.mark.parametrize("lang", [code for code in LOCALE_CODES if code != "de"])
def test_pages_are_translated(client: FlaskClient, lang: str) -> None:
    german = client.get("/de/request/").get_data(as_text=True)
    other = client.get(f"/{lang}/request/").get_data(as_text=True)
    assert "Hilfe anfragen" in german and "Hilfe anfragen" not in other
