"""Inline SVG charts for report.html: outcomes as bars, writes over time.

Plain strings, no plotting library: the page must stay self-contained and small.
"""

from __future__ import annotations

import html
import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
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


def writes_over_time(summary: RunSummary, phases: Sequence[tuple[str, float]] = ()) -> str:
    """Accepted writes over the whole run, as a staircase; failed and refused (429) PUTs as
    markers at the count reached when they happened; the configured limit as a dashed
    reference line from the first write. The y axis is scaled to the writes (the limit line
    leaves the plot where it climbs above them), ticks sit at round values, and ``phases``
    (name, start time) are marked on the x axis. Empty when the run sent no PUT.
    """
    accepted, failed = summary.write_times, summary.failed_write_times
    refused = summary.rate_limited_times
    moments = [
        *accepted[:1],
        *accepted[-1:],
        *failed[:1],
        *failed[-1:],
        *refused[:1],
        *refused[-1:],
    ]
    if not moments:
        return ""
    start = min([*moments, *([summary.started_at] if summary.started_at else [])])
    end = max([*moments, *([summary.finished_at] if summary.finished_at else [])])
    span = max(end - start, 1.0)
    y_max = nice_ceiling(max(len(accepted), 1))
    height, left, right, top, bottom = 250, 52, 16, 14, 54
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(t: float) -> float:
        return left + plot_w * (t - start) / span

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    parts = [_open(height, "Writes over time"), _axes(left, top, plot_w, plot_h)]
    parts.extend(_x_ticks(span, x, start, top + plot_h))
    parts.extend(_y_ticks(y_max, y, left))
    parts.extend(_phase_marks(phases, start, end, x, top, plot_h))
    slope = _limit_slope(summary.configured_write_rate)
    if slope is not None:
        first = min(moments)
        # y = 1 + slope·(t − first), cut where it leaves the plot (top or right edge)
        t_end = min(end, first + (y_max - 1) / slope) if slope > 0 else end
        parts.append(
            f'<line class="limit" x1="{x(first):.1f}" y1="{y(1):.1f}" x2="{x(t_end):.1f}" '
            f'y2="{y(1 + slope * (t_end - first)):.1f}" stroke="#90a4ae" stroke-width="1.5" '
            'stroke-dasharray="5 4"/>'
        )
    if accepted:
        points = _step_points([(x(t), y(i + 1)) for i, t in enumerate(accepted)], y(0))
        points += f" {x(end):.1f},{y(len(accepted)):.1f}"
        parts.append(
            f'<polyline class="accepted" points="{points}" fill="none" stroke="#2e7d32" '
            'stroke-width="2"/>'
        )
    for t in failed[:MAX_POINTS]:
        cx, cy = x(t), y(bisect_right(accepted, t))
        parts.append(
            f'<circle class="failed" cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#b71c1c">'
            "<title>failed PUT</title></circle>"
        )
    for t in refused[:MAX_POINTS]:
        cx, cy = x(t), y(bisect_right(accepted, t))
        parts.append(
            f'<path class="refused" d="M{cx:.1f} {cy - 5:.1f} l4 7 h-8 z" fill="#ef6c00">'
            "<title>429: refused by the rate limit</title></path>"
        )
    parts.append(_legend(summary, height, left, slope is not None))
    parts.append("</svg>")
    return "".join(parts)


#: Round steps for a time axis, in seconds.
TIME_STEPS: Final = (
    0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20, 30,
    60, 120, 300, 600, 900, 1200, 1800,
    3600, 7200, 10800, 21600, 43200, 86400,
)  # fmt: skip
#: Most intervals on an axis.
MAX_TICKS: Final = 6


def time_step(span: float) -> float:
    """The smallest round step that cuts ``span`` seconds into at most :data:`MAX_TICKS`."""
    for step in TIME_STEPS:
        if span / step <= MAX_TICKS:
            return step
    return TIME_STEPS[-1] * max(1, math.ceil(span / TIME_STEPS[-1] / MAX_TICKS))


def count_step(top: int) -> int:
    """A round step (1, 2, 5 × 10^k) that cuts ``0..top`` into at most 5 intervals."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if top / (step * magnitude) <= 5:
                return step * magnitude
        magnitude *= 10


def tick_label(seconds: float) -> str:
    """A round elapsed time: ``0``, ``0.5s``, ``30s``, ``1m30s``, ``2m``, ``1h``, ``1h30m``."""
    if seconds == 0:
        return "0"
    if seconds < 60:
        return f"{seconds:g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"


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
    step = time_step(span)
    parts = []
    for index in range(int(span / step + 1e-9) + 1):
        t = index * step
        parts.append(
            f'<line x1="{x(start + t):.1f}" y1="{base}" x2="{x(start + t):.1f}" y2="{base + 4}" '
            f'stroke="#9aa8b5"/><text class="tick-x" x="{x(start + t):.1f}" y="{base + 16}" '
            f'text-anchor="{"start" if index == 0 else "middle"}" {_MUTED}>'
            f"{html.escape(tick_label(t))}</text>"
        )
    return parts


def _y_ticks(y_max: int, y: Callable[[float], float], left: int) -> list[str]:
    step = count_step(y_max)
    return [
        f'<text class="tick-y" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" {_MUTED}>'
        f'{v}</text><line x1="{left}" y1="{y(v):.1f}" x2="{WIDTH - 16}" y2="{y(v):.1f}" '
        'stroke="#eef2f6"/>'
        for v in range(0, y_max + 1, step)
    ]


def _phase_marks(
    phases: Sequence[tuple[str, float]],
    start: float,
    end: float,
    x: Callable[[float], float],
    top: int,
    height: int,
) -> list[str]:
    return [
        f'<line class="phase" x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{top + height}" '
        f'stroke="#b0bec5" stroke-dasharray="2 3"/><text x="{x(t) + 3:.1f}" y="{top + 10}" '
        f"{_MUTED}>{html.escape(name)}</text>"
        for name, t in phases
        if start < t <= end
    ]


def _legend(summary: RunSummary, height: int, left: int, has_limit: bool) -> str:
    y = height - 10
    items = [("line", "#2e7d32", f"accepted ({summary.writes_ok})")]
    if has_limit:
        items.append(("dash", "#90a4ae", f"limit {summary.configured_write_rate}"))
    items.append(("dot", "#b71c1c", f"failed ({len(summary.failed_write_times)})"))
    items.append(("tri", "#ef6c00", f"429 ({summary.rate_limited})"))
    parts, x = [], float(left)
    for kind, colour, label in items:
        if kind == "dot":
            parts.append(f'<circle cx="{x + 9:.0f}" cy="{y - 4}" r="4" fill="{colour}"/>')
        elif kind == "tri":
            parts.append(f'<path d="M{x + 9:.0f} {y - 9} l4 7 h-8 z" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 4"' if kind == "dash" else ""
            parts.append(
                f'<line x1="{x:.0f}" y1="{y - 4}" x2="{x + 18:.0f}" y2="{y - 4}" '
                f'stroke="{colour}" stroke-width="2"{dash}/>'
            )
        parts.append(f'<text x="{x + 24:.0f}" y="{y}" {_MUTED}>{html.escape(label)}</text>')
        x += 36 + 6.2 * len(label)
    return "".join(parts)


def _limit_slope(rate_text: str | None) -> float | None:
    """Writes per second allowed by the configured rate (``6/60s``), if it can be read."""
    from migrate.config import Rate

    rate = Rate.parse_or_none(rate_text)
    return None if rate is None else rate.count / rate.period


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
