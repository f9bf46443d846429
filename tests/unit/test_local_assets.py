"""No asset from outside the repository: every stylesheet, image, font, script and frame a page
or an email loads comes from the portal itself (no CDN, no web font, no tracking pixel)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Elements that make the browser (or mail client) fetch something, and the attribute naming it.
LOADING = re.compile(
    r"<(?P<tag>link|script|img|source|iframe|frame|object|embed|video|audio|track|image|use|input)"
    r"\b(?P<attrs>[^>]*)>",
    re.I | re.S,
)
ATTRIBUTE = re.compile(
    r"""\b(?:href|src|srcset|data|poster|xlink:href)\s*=\s*(["'])(.*?)\1""", re.I
)
CSS_URL = re.compile(r"""\burl\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""", re.I)
# CSS inside a page: <style> blocks and style attributes.
INLINE_CSS = re.compile(r"<style[^>]*>(.*?)</style>|\bstyle\s*=\s*\"([^\"]*)\"", re.I | re.S)
# Local: a url_for() or other template expression of ours, a path on this host, a fragment.
LOCAL = re.compile(r"^(\{\{.*\}\}|/(?!/)|#|data:image/svg\+xml)")
# <link rel=alternate hreflang=…> points at our own pages and loads nothing.
NOT_LOADING_LINK = re.compile(r"""rel=["'](alternate|canonical)["']""", re.I)


def _references(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    found = []
    for element in LOADING.finditer(text):
        attrs = element.group("attrs")
        if element.group("tag").lower() == "link" and NOT_LOADING_LINK.search(attrs):
            continue
        found += [value.strip() for _quote, value in ATTRIBUTE.findall(attrs)]
    css = text if path.suffix == ".css" else " ".join("".join(m) for m in INLINE_CSS.findall(text))
    for match in CSS_URL.finditer(css):
        found.append((match.group(1) or match.group(2)).strip())
    return found


def test_templates_and_stylesheets_load_nothing_from_elsewhere() -> None:
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/**/*.css")]
    files += list(ROOT.glob("static/**/*.svg"))
    assert len(files) > 50
    outside = [
        (str(path.relative_to(ROOT)), reference)
        for path in files
        for reference in _references(path)
        if not LOCAL.match(reference)
    ]
    assert not outside, outside


def test_the_checker_would_see_a_cdn(tmp_path: Path) -> None:
    sample = tmp_path / "cdn_sample.html"
    sample.write_text(
        '<link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<img src="//tracker.example.com/p.gif"><style>@import "https://fonts.example/f.css";</style>'
        '<link rel="alternate" hreflang="en" href="{{ url_for(\'public.home\', lang=\'en\') }}">',
        "utf-8",
    )
    references = [r for r in _references(sample) if not LOCAL.match(r)]
    assert references == [
        "https://cdn.example.com/x.css",
        "//tracker.example.com/p.gif",
        "https://fonts.example/f.css",
    ]


def test_the_static_folder_is_part_of_the_repository() -> None:
    for path in ROOT.glob("static/**/*"):
        if path.is_file():
            assert not path.is_symlink(), path
            assert path.resolve().is_relative_to(ROOT), path
