"""Bar charts drawn on the server as inline SVG: no script, no third party.

A chart is readable without colour: every bar carries its label and its number, and bars
side by side differ in pattern too. The SVG is one image with an accessible name (the
title) and description (the text summary); the page shows the same numbers as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 400
ROW = 46
LABEL_GAP = 18  # from a row's top to the baseline of its label
BAR_TOP = 24  # from a row's top to its bar
BAR_HEIGHT = 16
VALUE_ROOM = 64  # room after the longest bar for its number
LABEL_CHARACTERS = 48  # longer labels are cut short in the chart; the table has them whole
# Patterns told apart without colour, repeated in this order.
PATTERNS = ("solid", "hatch", "dots", "cross")


@dataclass(frozen=True)
class Bar:
    """One bar: what it counts, how many, and that number as the page shows it."""

    label: str
    value: int
    shown: str
    # Further numbers of the bar for its row in the table (a breakdown of the value).
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart with its name, its summary in words and its table headings."""

    key: str
    title: str
    summary: str
    label_heading: str
    value_heading: str
    bars: tuple[Bar, ...]
    # Headings of the further columns of the table, one for each of a bar's parts.
    part_headings: tuple[str, ...] = ()


def _patterns(key: str) -> str:
    """The fill patterns of one chart, with ids unique on the page."""
    return (
        "<defs>"
        f'<pattern id="{key}-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<rect width="8" height="8" class="chart-fill-light"/>'
        '<rect width="3" height="8" class="chart-fill"/></pattern>'
        f'<pattern id="{key}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" class="chart-fill-light"/>'
        '<circle cx="3" cy="3" r="2" class="chart-fill"/></pattern>'
        f'<pattern id="{key}-cross" width="8" height="8" patternUnits="userSpaceOnUse">'
        '<rect width="8" height="8" class="chart-fill-light"/>'
        '<rect width="8" height="2" class="chart-fill"/>'
        '<rect width="2" height="8" class="chart-fill"/></pattern>'
        "</defs>"
    )


def short(label: str) -> str:
    """``label``, cut to fit beside the chart's bars."""
    if len(label) <= LABEL_CHARACTERS:
        return label
    cut = label[: LABEL_CHARACTERS - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]  # at a word's end
    return cut.rstrip(" ,;:-–") + "…"


def bar_width(value: int, largest: int) -> int:
    """The length of a bar for ``value`` when the largest bar is ``largest``."""
    if largest <= 0 or value <= 0:
        return 0
    return max(2, round((WIDTH - VALUE_ROOM) * value / largest))


def render(chart: Chart, rtl: bool = False) -> Markup:
    """The chart as an inline SVG image, mirrored for right-to-left languages."""
    height = max(ROW, ROW * len(chart.bars))
    largest = max((bar.value for bar in chart.bars), default=0)
    direction = "rtl" if rtl else "ltr"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-labelledby="{chart.key}-title {chart.key}-desc">',
        f'<title id="{chart.key}-title">{escape(chart.title)}</title>',
        f'<desc id="{chart.key}-desc">{escape(chart.summary)}</desc>',
        _patterns(chart.key),
    ]
    for index, bar in enumerate(chart.bars):
        top = index * ROW
        width = bar_width(bar.value, largest)
        start = WIDTH if rtl else 0
        bar_x = WIDTH - width if rtl else 0
        value_x = WIDTH - width - 6 if rtl else width + 6
        pattern = PATTERNS[index % len(PATTERNS)]
        fill = "" if pattern == "solid" else f' fill="url(#{chart.key}-{pattern})"'
        parts.append(
            f'<text x="{start}" y="{top + LABEL_GAP}" direction="{direction}" '
            f'class="chart-text">{escape(short(bar.label))}</text>'
        )
        if width:
            parts.append(
                f'<rect x="{bar_x}" y="{top + BAR_TOP}" width="{width}" '
                f'height="{BAR_HEIGHT}" class="chart-bar chart-bar-{pattern}"{fill}/>'
            )
        parts.append(
            f'<text x="{value_x}" y="{top + BAR_TOP + BAR_HEIGHT - 3}" direction="{direction}" '
            f'class="chart-text chart-value">{escape(bar.shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
