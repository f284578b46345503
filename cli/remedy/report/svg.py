"""SVG charts drawn by remedy itself: no chart library, nothing fetched, the same bytes for the same numbers.

Each function returns one `<svg>` element with a `<title>` (what screen readers and tooltips show);
the page puts every chart's numbers in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6fb3", "#c8553d", "#3a9a5b", "#8a5fbf", "#b08a1e")


def _number(value: float) -> str:
    """Coordinates with two decimals at most, so output is stable and short."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _nice_max(value: float) -> float:
    """The smallest round number at or above `value` whose quarters are round too (the y ticks)."""
    if value <= 0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(value))
    for factor in (1, 2, 4, 6, 8, 10):
        if value <= factor * step + 1e-9:
            return factor * step
    return 10 * step  # pragma: no cover - the loop always returns


def _tick(value: float, percent: bool) -> str:
    if percent:
        return f"{100 * value:.0f}%"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
               percent: bool = False, width: int = 720, height: int = 240) -> str:
    """Lines over time (gaps where a value is None), a y axis with 5 ticks, the first and last labels."""
    left, right, top, bottom = 56, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, points in series for v in points if v is not None]
    y_max = 1.0 if percent else _nice_max(max(values, default=0))
    count = max(len(labels), 1)

    def x(index: int) -> float:
        return left + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h - plot_h * min(value, y_max) / y_max

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for step in range(5):
        value = y_max * step / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{_number(y(value))}" y2="{_number(y(value))}" '
                     'class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{_number(y(value) + 4)}" text-anchor="end">'
                     f'{_tick(value, percent)}</text>')
    if labels:
        parts.append(f'<text x="{left}" y="{height - 22}">{escape(labels[0])}</text>')
        if len(labels) > 1:
            parts.append(f'<text x="{width - right}" y="{height - 22}" text-anchor="end">{escape(labels[-1])}</text>')
    for index, (name, points) in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for position, point in enumerate(points):
            if point is None:
                runs.append([])
            else:
                runs[-1].append(f"{_number(x(position))},{_number(y(point))}")
        for run in filter(None, runs):
            if len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
            else:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(run)}"/>')
        legend_x = left + index * 150
        parts.append(f'<rect x="{legend_x}" y="{height - 12}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{legend_x + 14}" y="{height - 3}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(title: str, rows: Sequence[tuple[str, Sequence[int]]], names: Sequence[str], *,
                 width: int = 720) -> str:
    """Horizontal bars, one per row, split into the parts named by `names` (e.g. addressed, unaddressed)."""
    left, right, bar, gap, top = 150, 60, 18, 8, 8
    height = top + len(rows) * (bar + gap) + 24
    total_max = max((sum(parts) for _, parts in rows), default=0) or 1
    plot_w = width - left - right
    parts_svg = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
                 f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for index, (label, values) in enumerate(rows):
        y = top + index * (bar + gap)
        parts_svg.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        offset = float(left)
        for part, value in enumerate(values):
            length = plot_w * value / total_max
            if length > 0:
                parts_svg.append(f'<rect x="{_number(offset)}" y="{y}" width="{_number(length)}" height="{bar}" '
                                 f'fill="{PALETTE[part % len(PALETTE)]}"><title>{escape(label)}: '
                                 f'{value:,} {escape(names[part])}</title></rect>')
            offset += length
        parts_svg.append(f'<text x="{_number(offset + 6)}" y="{y + 13}">{sum(values):,}</text>')
    legend_y = height - 14
    for part, name in enumerate(names):
        parts_svg.append(f'<rect x="{left + part * 150}" y="{legend_y}" width="10" height="10" '
                         f'fill="{PALETTE[part % len(PALETTE)]}"/><text x="{left + part * 150 + 14}" '
                         f'y="{legend_y + 9}">{escape(name)}</text>')
    parts_svg.append("</svg>")
    return "".join(parts_svg)


def sparkline(title: str, values: Sequence[int], *, width: int = 120, height: int = 24) -> str:
    """A tiny line of counts (e.g. preventions per week); the title carries the numbers."""
    top = max(values, default=0) or 1
    count = len(values)
    points = " ".join(f"{_number(1 + (width - 2) * i / max(count - 1, 1))},"
                      f"{_number(height - 2 - (height - 4) * v / top)}" for i, v in enumerate(values))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" class="spark" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            + (f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" points="{points}"/>' if count > 1
               else "")
            + "</svg>")
