"""Static files carry a fingerprint of their content in the URL and are cached for a year under
it; any other address of the file gets a day."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from portal.static_files import DAY, YEAR

ROOT = Path(__file__).resolve().parents[2]


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _lifetime(client: FlaskClient, address: str) -> str:
    """The Cache-Control of a static file at ``address`` (which must be found)."""
    response = client.get(address)
    try:
        assert response.status_code == 200, address
        return str(response.headers["Cache-Control"])
    finally:
        response.close()


def test_pages_link_static_files_by_their_fingerprint(client: FlaskClient) -> None:
    page = client.get("/de/").get_data(as_text=True)
    css = _fingerprint(ROOT / "static/css/portal.css")
    assert f'href="/static/css/portal.css?v={css}"' in page
    assert re.search(r'href="/static/img/favicon\.svg\?v=[0-9a-f]{12}"', page)


def test_the_current_fingerprint_is_cached_for_a_year_any_other_for_a_day(
    client: FlaskClient,
) -> None:
    css = _fingerprint(ROOT / "static/css/portal.css")
    assert _lifetime(client, f"/static/css/portal.css?v={css}") == YEAR
    assert YEAR == "public, max-age=31536000, immutable"
    for address in ("/static/css/portal.css", "/static/css/portal.css?v=000000000000"):
        assert _lifetime(client, address) == DAY, address


def test_a_changed_file_gets_a_new_fingerprint(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "static"
    (folder / "css").mkdir(parents=True)
    sheet = folder / "css" / "portal.css"
    sheet.write_text("body { color: black; }", "utf-8")
    original = app.static_folder
    app.static_folder = str(folder)
    try:
        with app.test_request_context("/de/"):
            from flask import url_for

            before = url_for("static", filename="css/portal.css")
            sheet.write_text("body { color: #0b0c0c; }", "utf-8")
            after = url_for("static", filename="css/portal.css")
        assert before != after
        assert after.endswith(f"?v={_fingerprint(sheet)}")
        client = app.test_client()
        assert _lifetime(client, after) == YEAR
        assert _lifetime(client, before) == DAY
    finally:
        app.static_folder = original


def test_an_unknown_file_gets_no_fingerprint_and_a_404(client: FlaskClient, app: Flask) -> None:
    with app.test_request_context("/de/"):
        from flask import url_for

        assert url_for("static", filename="css/missing.css") == "/static/css/missing.css"
        assert url_for("static", filename="../portal/__init__.py").endswith("__init__.py")
    missing = client.get("/static/css/missing.css?v=abc")
    assert missing.status_code == 404
    missing.close()
