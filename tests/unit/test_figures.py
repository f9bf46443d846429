"""The SVG bar chart and the counting rules of the figures, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from xml.etree import ElementTree

from portal import charts
from portal.models import HelpRequest
from portal.services import figures

SVG = "{http://www.w3.org/2000/svg}"


def _chart(*bars: tuple[str, int]) -> charts.Chart:
    return charts.Chart(
        key="topics",
        title="Anfragen nach Themenbereich",
        summary="Insgesamt 7. Am häufigsten: Geld & Leistungen mit 5.",
        label_heading="Themenbereich",
        value_heading="Anzahl",
        bars=tuple(charts.Bar(label, value, str(value)) for label, value in bars),
    )


def _parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(markup.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def test_the_chart_is_one_image_named_by_its_title_and_described_by_its_summary() -> None:
    svg = _parse(str(charts.render(_chart(("Geld & Leistungen", 5), ("<Wohnen>", 2)))))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "topics-title topics-desc"
    assert svg.findtext(f"{SVG}title") == "Anfragen nach Themenbereich"
    assert (svg.findtext(f"{SVG}desc") or "").startswith("Insgesamt 7.")
    # Every bar carries its label and its number, escaped: readable without colour.
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert texts == ["Geld & Leistungen", "5", "<Wohnen>", "2"]


def test_bars_scale_to_the_largest_and_differ_in_pattern_too() -> None:
    svg = _parse(str(charts.render(_chart(("a", 10), ("b", 5), ("c", 0)))))
    bars = list(svg.iter(f"{SVG}rect"))
    drawn = [bar for bar in bars if "chart-bar" in (bar.get("class") or "")]
    assert [int(bar.get("width", "")) for bar in drawn] == [336, 168]  # no bar for zero
    assert drawn[0].get("fill") is None and drawn[1].get("fill") == "url(#topics-hatch)"
    assert {pattern.get("id") for pattern in svg.iter(f"{SVG}pattern")} == {
        "topics-hatch",
        "topics-dots",
        "topics-cross",
    }


def test_right_to_left_mirrors_the_bars() -> None:
    markup = str(charts.render(_chart(("a", 10), ("b", 5)), rtl=True))
    assert 'direction="rtl"' in markup and 'direction="ltr"' not in markup
    assert '<rect x="64" y="24" width="336"' in markup
    assert '<rect x="232" y="70" width="168"' in markup
    # Labels start at the right edge, numbers just left of their bar.
    assert '<text x="400" y="18" direction="rtl"' in markup
    assert '<text x="226" y="83" direction="rtl"' in markup


def test_a_long_label_is_cut_short_in_the_chart_only() -> None:
    name = "Beratungsstelle für Menschen mit Behinderung und ihre Angehörigen im Kreis Gütersloh"
    markup = str(charts.render(_chart((name, 3))))
    assert name not in markup and "Beratungsstelle für Menschen mit Behinderung…" in markup


def test_an_empty_chart_is_still_a_named_image() -> None:
    markup = str(charts.render(_chart()))
    assert 'role="img"' in markup and "<rect x=" not in markup


def _request(**values: object) -> HelpRequest:
    fields: dict[str, object] = {
        "town_id": 1,
        "received_at": datetime(2026, 12, 4, 16, 0, tzinfo=UTC),  # a Friday, 17:00 in Berlin
        "respond_by": date(2026, 12, 9),
        "topics": ["debt", "housing"],
        "status": "closed",
        "outcome": "helped",
        "channel": "online",
    }
    return HelpRequest(**(fields | values))


def test_working_days_skip_weekends_and_public_holidays() -> None:
    assert figures.working_days_between(date(2026, 12, 4), date(2026, 12, 4)) == 0
    assert figures.working_days_between(date(2026, 12, 4), date(2026, 12, 7)) == 1
    # Christmas: 24th is a Thursday (a working day), 25th and 26th are holidays.
    assert figures.working_days_between(date(2026, 12, 23), date(2026, 12, 28)) == 2


def test_a_request_counts_once_under_its_first_topic_with_its_response_and_referrals() -> None:
    request = _request()
    steps = [
        figures.Step("call", datetime(2026, 12, 10, 9, tzinfo=UTC), 1),
        figures.Step("submitted", request.received_at, None),
        figures.Step("note", datetime(2026, 12, 7, 9, tzinfo=UTC), 1),
        figures.Step("call", datetime(2026, 12, 11, 9, tzinfo=UTC), 1),
    ]
    referred = [figures.Handover(None, datetime(2027, 1, 4, 9, tzinfo=UTC))]
    cells = figures.cells_of(request, steps, referred, booked=False, today=date(2026, 12, 20))
    assert cells == [
        figures.Cell("2026-12", 1, "request", "money", "helped", "online"),
        figures.Cell("2026-12", 1, "response", "money", "helped", "online", "4", "late"),
        # A referral counts in its own month, under no organisation when typed in by hand.
        figures.Cell("2027-01", 1, "referral", "money", "", "online", ""),
    ]


def test_a_booked_request_without_a_form_counts_as_a_booking() -> None:
    request = _request(outcome="", status="received")
    [counted, response] = figures.cells_of(request, [], [], booked=True, today=date(2026, 12, 7))
    assert (counted.channel, counted.outcome) == ("booking", "open")
    assert (response.detail, response.promise) == ("", "pending")
    later = figures.cells_of(request, [], [], booked=True, today=date(2026, 12, 10))[1]
    assert later.promise == "late"


def test_a_month_starts_at_midnight_in_berlin() -> None:
    assert figures.month_start("2026-12").isoformat() == "2026-12-01T00:00:00+01:00"
    assert figures.month_of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "2026-12"
