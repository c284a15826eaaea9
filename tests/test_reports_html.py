"""report.html: parsed for numbers and changes, sized at 10,000 scenarios, shown in Chromium."""

from __future__ import annotations

import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_reports_sample import E164, E164_NEW, HOSTILE_NAMES, SCRIPT_TAG, large_data, sample_data

from migrate.reports import summarise, write_reports
from migrate.reports.html import MAX_SCENARIOS_PER_OUTCOME, render_html

#: Tags the page may contain; anything else (script, img, link, iframe…) is an injection.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "section",
    "h1", "h2", "h3", "p", "strong", "code", "pre", "a", "div", "span", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "del", "ins",
    "ul", "ol", "li", "dl", "dt", "dd", "wbr", "time",
    "svg", "rect", "text", "line", "path", "polyline", "circle",
}  # fmt: skip


class Page(HTMLParser):
    """Collects what the tests look at: tags, attributes, cards, figures, changes, scenarios."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self.cards: dict[str, str] = {}
        self.figures: dict[str, str] = {}
        self.changes: list[list[str]] = []
        self.scenarios: list[tuple[str, str]] = []  # (outcome section, scenario id)
        self.boxes: list[tuple[str, str]] = []  # the scenarios shown in a box of their own
        self.section_counts: dict[str, str] = {}
        self.tally = ""
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._capture: list[str] | None = None
        self._cell: list[str] | None = None
        self._outcome = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        for key in ("href", "src", "xlink:href", "action"):
            if key in attributes:
                self.urls.append(attributes[key])
        classes = attributes.get("class", "").split()
        if "outcome" in classes and tag == "details":
            self._outcome = attributes["data-outcome"]
        if "scenario" in classes and tag == "details":
            self.scenarios.append((self._outcome, attributes["data-scenario-id"]))
            self.boxes.append((self._outcome, attributes["data-scenario-id"]))
        if tag == "li" and "data-scenario-id" in attributes:
            self.scenarios.append((self._outcome, attributes["data-scenario-id"]))
        if tag == "tr" and "change" in classes:
            self.changes.append([])
        if tag == "td" and self.changes and self._in("tr"):
            self._cell = []
        if tag == "a" and "card" in classes:
            self._capture = []
        if tag == "div" and "figure" in classes:
            self._capture = []
        if tag == "p" and attributes.get("id") == "tally":
            self._capture = []
        if tag == "span" and "n" in classes:
            self._capture = []
        if tag not in ("meta", "line", "rect", "path", "polyline", "circle", "wbr"):
            self._stack.append((tag, attributes))

    def _in(self, tag: str) -> bool:
        return any(t == tag for t, _ in self._stack)

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, attributes = self._stack.pop()
            self._close(open_tag, attributes)
            if open_tag == tag:
                break

    def _close(self, tag: str, attributes: dict[str, str]) -> None:
        classes = attributes.get("class", "").split()
        if tag == "td" and self._cell is not None:
            self.changes[-1].append("".join(self._cell).strip())
            self._cell = None
        if self._capture is None:
            return
        text = " ".join("".join(self._capture).split())
        if tag == "a" and "card" in classes:
            self.cards[attributes["data-outcome"]] = text
        elif tag == "div" and "figure" in classes:
            self.figures[attributes["data-figure"]] = text
        elif tag == "p" and attributes.get("id") == "tally":
            self.tally = text
        elif tag == "span" and "n" in classes:
            self.section_counts[self._outcome] = text
        else:
            return
        self._capture = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._capture is not None:
            self._capture.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_summary_numbers_match_the_run() -> None:
    data = sample_data()
    page = parse(render_html(data, summarise(data)))
    summary = summarise(data)
    assert page.tally == summary.tally()
    assert {k: v.split()[0] for k, v in page.cards.items()} == {
        k: str(v) for k, v in summary.outcomes.items()
    }
    assert page.cards["failed_retryable"] == "1 failed (retryable)"
    assert page.figures["scenarios"] == "10 scenarios"
    assert page.figures["changed fields"] == "8 changed fields"
    assert page.figures["writes accepted"] == "2 of 5 writes accepted"
    assert page.figures["writes failed"] == "2 writes failed"
    assert page.figures["429 answers"] == "1 429 answers"
    assert page.figures["write rate"] == "6.00/min write rate"
    assert page.section_counts == {k: str(v) for k, v in summary.outcomes.items()}


def test_every_change_is_listed_with_before_after_and_rule() -> None:
    data = sample_data()
    page = parse(render_html(data, summarise(data)))
    expected = [
        [c.path, "" if c.before is None else str(c.before), "→", str(c.after or ""), c.rule]
        for c in data.changes
    ]
    got = [[path, before, arrow, after, rule] for path, before, arrow, after, rule in page.changes]
    # Absent and removed values are spelled out.
    expected = [
        [p, b if b else "(absent)", a, after if after else "(removed)", r]
        for p, b, a, after, r in expected
    ]
    assert sorted(got) == sorted(expected)
    assert ["script[2].dial", E164, "→", E164_NEW, "number"] in got
    assert ["script[3].if.then[2].sendSms.from", "Nordlicht", "→", "NordBrand", "sms-sender"] in got
    assert sorted(sid for _, sid in page.scenarios) == sorted(r.scenario_id for r in data.rows)
    outcome_of = {sid: outcome for outcome, sid in page.scenarios}
    assert all(outcome_of[row.scenario_id] == row.outcome for row in data.rows)


def test_hostile_text_is_escaped_and_nothing_is_fetched() -> None:
    data = sample_data()
    html = render_html(data, summarise(data))
    page = parse(html)
    assert page.tags <= ALLOWED_TAGS, page.tags - ALLOWED_TAGS
    assert all(url.startswith("#") for url in page.urls), page.urls
    assert SCRIPT_TAG not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html
    for name in HOSTILE_NAMES[:4]:
        assert name.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#x27;") in html
    assert "SECRET-KEY-123" not in html


def test_failed_rows_show_their_error() -> None:
    data = sample_data()
    html = render_html(data, summarise(data))
    assert "ServerError HTTP 503 · retryable" in html
    assert "BadRequest HTTP 400 · permanent" in html
    assert "no scenario with this id" in html


def test_dry_run_page_says_nothing_was_written() -> None:
    data = sample_data()
    page = parse(render_html(data, summarise(data, dry_run=True)))
    assert page.cards["planned"] == "1 would update"
    assert "Dry run" in render_html(data, summarise(data, dry_run=True))


def test_ten_thousand_scenarios_stay_small_and_capped(tmp_path: Path) -> None:
    data = large_data(10_000)
    summary = summarise(data)
    html = render_html(data, summary)
    size = len(html.encode("utf-8"))
    print(f"report.html with 10,000 scenarios: {size / 1e6:.2f} MB")
    assert size < 3_000_000
    page = parse(html)
    shown: dict[str, int] = {}
    for outcome, _ in page.scenarios:
        shown[outcome] = shown.get(outcome, 0) + 1
    assert shown == {
        outcome: min(count, MAX_SCENARIOS_PER_OUTCOME)
        for outcome, count in summary.outcomes.items()
    }
    assert "and 8500 more updated scenarios: see results.csv and changes.csv" in html
    # Big sections start collapsed; the scenario list is not one giant open table.
    assert '<details class="outcome" id="outcome-updated" data-outcome="updated" style' in html
    assert '<details class="scenario" data-scenario-id="00000000000000000000000000000001">' in html
    # Unchanged scenarios are one short list, not a box each.
    assert not [sid for outcome, sid in page.boxes if outcome == "unchanged"]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_report_renders_in_headless_chromium(tmp_path: Path, dry_run: bool) -> None:
    files = write_reports(tmp_path / "run", sample_data(), dry_run=dry_run)
    shot = tmp_path / "shot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        files.html.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    assert png_size(shot) == (1280, 2000)
    # A blank page compresses to a few KB; the rendered report is far bigger.
    assert shot.stat().st_size > 40_000


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(0, "0s"), (0.45, "0.5s"), (12.5, "12.5s"), (416, "6m56s"), (99890, "27h44m")],
)
def test_axis_labels_stay_short(seconds: float, label: str) -> None:
    from migrate.reports.charts import short_duration

    assert short_duration(seconds) == label


@pytest.mark.parametrize(("value", "top"), [(1, 2), (3, 5), (6, 10), (11, 20), (9990, 10000)])
def test_axis_tops_are_round(value: int, top: int) -> None:
    from migrate.reports.charts import nice_ceiling

    assert nice_ceiling(value) == top
