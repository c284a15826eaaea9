"""Inline SVG charts for report.html: outcomes as bars, accepted writes over time.

Plain strings, no plotting library: the page must stay self-contained and small.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Final

from migrate.reports.summary import RunSummary

WIDTH: Final = 560
#: Most points drawn for the writes line; more would only add bytes, not detail.
MAX_POINTS: Final = 400
_TEXT: Final = 'font-family="system-ui,sans-serif" font-size="12" fill="#1d2733"'
_MUTED: Final = 'font-family="system-ui,sans-serif" font-size="11" fill="#5b6b7a"'


def outcome_bars(summary: RunSummary, colour: Callable[[str], str]) -> str:
    """One horizontal bar per outcome, labelled with its count."""
    if not summary.outcomes:
        return _empty("No scenarios in this run.")
    row_height, label_width, bar_space = 28, 170, WIDTH - 170 - 60
    top = max(summary.outcomes.values())
    height = row_height * len(summary.outcomes) + 8
    parts = [_open(height, "Scenarios by outcome")]
    for index, (outcome, count) in enumerate(summary.outcomes.items()):
        y = 4 + index * row_height
        width = max(2.0, bar_space * count / top) if count else 0.0
        label = html.escape(summary.label(outcome))
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" {_TEXT}>{label}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{width:.1f}" height="{row_height - 8}" '
            f'rx="3" fill="{colour(outcome)}"><title>{label}: {count}</title></rect>'
            f'<text x="{label_width + width + 6:.1f}" y="{y + 17}" {_TEXT} '
            f'font-weight="600">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def writes_over_time(summary: RunSummary) -> str:
    """Cumulative accepted writes against time, the configured limit dashed, 429s as red ticks."""
    times = summary.write_times
    limited = summary.rate_limited_times
    if not times and not limited:
        reason = "Dry run: nothing was written." if summary.dry_run else "No writes in this run."
        return _empty(reason)
    height, left, right, top, bottom = 240, 52, 16, 14, 44
    start = min([*times[:1], *limited[:1]])
    end = max([*times[-1:], *limited[-1:]])
    span = max(end - start, 1.0)
    slope = _limit_slope(summary.configured_write_rate)
    y_max = max(len(times), 1)
    if slope is not None:
        y_max = max(y_max, round(1 + slope * span))
    y_max = nice_ceiling(y_max)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(t: float) -> float:
        return left + plot_w * (t - start) / span

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    parts = [_open(height, "Accepted writes over time"), _axes(left, top, plot_w, plot_h)]
    parts.extend(_x_ticks(span, x, start, top + plot_h))
    parts.extend(_y_ticks(y_max, y, left))
    if slope is not None:
        parts.append(
            f'<line x1="{x(start):.1f}" y1="{y(1):.1f}" x2="{x(end):.1f}" '
            f'y2="{y(min(y_max, 1 + slope * span)):.1f}" stroke="#90a4ae" stroke-width="1.5" '
            'stroke-dasharray="5 4"/>'
        )
    if times:
        points = _step_points([(x(t), y(i + 1)) for i, t in enumerate(times)], y(0))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#2e7d32" stroke-width="2"/>')
    for t in limited[:MAX_POINTS]:
        parts.append(
            f'<line x1="{x(t):.1f}" y1="{top + plot_h - 8}" x2="{x(t):.1f}" '
            f'y2="{top + plot_h}" stroke="#e53935" stroke-width="2"/>'
        )
    parts.append(_legend(summary, height, left, slope is not None))
    parts.append("</svg>")
    return "".join(parts)


def short_duration(seconds: float) -> str:
    """Axis labels: ``0s``, ``12.5s``, ``6m56s``, ``27h45m``."""
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10^k (as an integer ≥ 2) at or above ``value``."""
    magnitude = 1
    while True:
        for step in (1, 2, 2.5, 5):
            candidate = int(step * magnitude)
            if candidate >= max(value, 2) and candidate == step * magnitude:
                return candidate
        magnitude *= 10


def _open(height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img"><title>{html.escape(title)}</title>'
    )


def _empty(message: str) -> str:
    return f'{_open(60, message)}<text x="12" y="34" {_MUTED}>{html.escape(message)}</text></svg>'


def _axes(left: int, top: int, width: int, height: int) -> str:
    return (
        f'<path d="M{left} {top} V{top + height} H{left + width}" fill="none" '
        'stroke="#9aa8b5" stroke-width="1"/>'
    )


def _x_ticks(span: float, x: Callable[[float], float], start: float, base: float) -> list[str]:
    parts = []
    for step in range(5):
        t = start + span * step / 4
        anchor = "start" if step == 0 else "end" if step == 4 else "middle"
        parts.append(
            f'<line x1="{x(t):.1f}" y1="{base}" x2="{x(t):.1f}" y2="{base + 4}" stroke="#9aa8b5"/>'
            f'<text x="{x(t):.1f}" y="{base + 16}" text-anchor="{anchor}" {_MUTED}>'
            f"{html.escape(short_duration(span * step / 4))}</text>"
        )
    return parts


def _y_ticks(y_max: int, y: Callable[[float], float], left: int) -> list[str]:
    values = sorted({0, y_max // 2, y_max})
    return [
        f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" {_MUTED}>{v}</text>'
        f'<line x1="{left}" y1="{y(v):.1f}" x2="{WIDTH - 16}" y2="{y(v):.1f}" stroke="#eef2f6"/>'
        for v in values
    ]


def _legend(summary: RunSummary, height: int, left: int, has_limit: bool) -> str:
    y = height - 8
    items = [("#2e7d32", "", f"accepted writes ({summary.writes_ok})")]
    if has_limit:
        items.append(
            ("#90a4ae", ' stroke-dasharray="5 4"', f"limit {summary.configured_write_rate}")
        )
    items.append(("#e53935", "", f"429 answers ({summary.rate_limited})"))
    parts, x = [], float(left)
    for stroke, dash, label in items:
        parts.append(
            f'<line x1="{x:.0f}" y1="{y - 4}" x2="{x + 18:.0f}" y2="{y - 4}" stroke="{stroke}" '
            f'stroke-width="2"{dash}/><text x="{x + 24:.0f}" y="{y}" {_MUTED}>'
            f"{html.escape(label)}</text>"
        )
        x += 40 + 6.5 * len(label)
    return "".join(parts)


def _limit_slope(rate_text: str | None) -> float | None:
    """Writes per second allowed by the configured rate (``6/60s``), if it can be read."""
    if not rate_text:
        return None
    from migrate.config import Rate
    from migrate.errors import ConfigError

    try:
        rate = Rate.parse(rate_text)
    except ConfigError:
        return None
    return rate.count / rate.period


def _step_points(points: list[tuple[float, float]], floor: float) -> str:
    """A staircase through the points, thinned to at most :data:`MAX_POINTS` steps."""
    if len(points) > MAX_POINTS:
        stride = len(points) / MAX_POINTS
        points = [points[int(i * stride)] for i in range(MAX_POINTS)] + [points[-1]]
    out = [f"{points[0][0]:.1f},{floor:.1f}"]
    previous_y = floor
    for px, py in points:
        out.append(f"{px:.1f},{previous_y:.1f}")
        out.append(f"{px:.1f},{py:.1f}")
        previous_y = py
    return " ".join(out)
