"""report.html: parsed for numbers and changes, sized at 10,000 scenarios, shown in Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_reports_sample import (
    E164,
    E164_NEW,
    HOSTILE_NAMES,
    SCRIPT_TAG,
    T0,
    large_data,
    number_steps,
    sample_data,
    sender_steps,
)

from migrate.reports import ReportAttempt, ReportChange, ReportData, ReportRow, summarise
from migrate.reports.charts import count_step, tick_label, time_step, writes_over_time
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


def _id(n: int) -> str:
    return f"{n:032X}"


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_header_names_tool_version_sheet_hash_operator_and_run_id() -> None:
    data = sample_data()
    data.metadata["sheet_sha256"] = "0123456789abcdef" * 4
    data.metadata["sheet_name"] = "rebrand.csv"
    html = render_html(data, summarise(data))
    header = text_of(html.split("<header>")[1].split("</header>")[0])
    for expected in (
        "run id 20260216-100000-demo",
        "tool ivr-migrate 0.1.0",
        "operator ops@example",
        "sheet rebrand.csv",
        "sheet SHA-256 " + "0123456789abcdef" * 4,
    ):
        assert expected in header, header


def unchanged_run(scenarios: int) -> ReportData:
    rows = [
        ReportRow(_id(n), f"Scenario {n}", "unchanged", sender_steps(2))
        for n in range(1, scenarios + 1)
    ]
    rows.append(ReportRow(_id(9999), "Changed one", "updated", sender_steps(2)))
    change = ReportChange(
        _id(9999), "script[0]", "sendSms.from", "Nordlicht", "NordBrand", "sms-sender"
    )
    return ReportData({"run_id": "u"}, rows, [change])


def test_unchanged_scenarios_are_one_short_list_not_a_box_each() -> None:
    data = unchanged_run(500)
    html = render_html(data, summarise(data))
    page = parse(html)
    assert [sid for outcome, sid in page.boxes] == [_id(9999)]
    listed = [sid for outcome, sid in page.scenarios if outcome == "unchanged"]
    assert listed == [_id(n) for n in range(1, 501)]
    assert html.count('<ul class="plain">') == 1


def dry_run_data() -> ReportData:
    data = sample_data()
    data.metadata["phase"] = "plan"
    data.attempts = [a for a in data.attempts if a.method == "GET"]
    return data


def test_a_dry_run_shows_its_planned_writes_and_their_duration_and_no_write_figures() -> None:
    data = dry_run_data()
    html = render_html(data, summarise(data, dry_run=True))
    page = parse(html)
    banner = text_of(html.split('id="dry-run">')[1].split("</p>")[0])
    assert "would send 1 write" in banner
    assert "At the configured rate of 6/60s that takes about 10.0 s" in banner
    assert page.figures["planned writes"] == "1 planned writes"
    assert page.figures["time to write them"] == "10.0 s time to write them"
    for absent in ("writes accepted", "writes failed", "429 answers", "write rate"):
        assert absent not in page.figures
    assert 'id="writes-chart"' not in html and "Writes over time" not in html


def test_two_edits_in_one_text_are_two_highlighted_spans() -> None:
    before = "Nordlicht: track at https://nordlicht.example/t, reply STOP to Nordlicht"
    after = "NordBrand: track at https://nordbrand.example/t, reply STOP to NordBrand"
    data = unchanged_run(0)
    data.changes = [ReportChange(_id(9999), "script[0]", "sendSms.text", before, after, "sms-text")]
    html = render_html(data, summarise(data))
    assert re.findall(r"<ins>([^<]*)</ins>", html) == ["NordBrand", "nordbrand", "NordBrand"]
    assert re.findall(r"<del>([^<]*)</del>", html) == ["Nordlicht", "nordlicht", "Nordlicht"]


def test_a_field_path_may_wrap_only_before_a_dot_or_a_bracket() -> None:
    path = 'script[3].switch.case["__default"][2].for-each.do[0].sendSms.from'
    data = unchanged_run(0)
    data.changes = [
        ReportChange(_id(9999), path.rsplit(".", 2)[0], "sendSms.from", "a-b", "c-d", "x")
    ]
    html = render_html(data, summarise(data))
    cell = html.split('<td class="path"><code>')[1].split("</code>")[0]
    segments = re.findall(r'<span class="seg">([^<]*)</span>', cell)
    assert "".join(segments).replace("&quot;", '"') == path
    assert segments[0] == "script" and all(s[0] in ".[" for s in segments[1:])
    assert cell == "<wbr>".join(f'<span class="seg">{s}</span>' for s in segments)
    assert ".seg{white-space:nowrap}" in html


def writes_run(span: float = 3600.0) -> ReportData:
    """Three accepted writes, one failed, two refused (429) in an hour-long run at 6/min."""
    rows = [ReportRow(_id(n), f"S{n}", "updated", number_steps(4)) for n in range(1, 5)]
    put = "PUT"
    attempts = [
        ReportAttempt(put, "/s/1", _id(1), 200, None, T0 + 600, 0.1),
        ReportAttempt(put, "/s/2", _id(2), 429, "RateLimited", T0 + 610, 0.1),
        ReportAttempt(put, "/s/2", _id(2), 429, "RateLimited", T0 + 615, 0.1),
        ReportAttempt(put, "/s/2", _id(2), 200, None, T0 + 620, 0.1),
        ReportAttempt(put, "/s/3", _id(3), 503, "ServerError", T0 + 630, 0.1),
        ReportAttempt(put, "/s/4", _id(4), 200, None, T0 + 640, 0.1),
    ]
    meta = {"run_id": "w", "write_rate": "6/60s", "started_at": T0, "finished_at": T0 + span,
            "apply_started_at": T0 + 590}  # fmt: skip
    return ReportData(meta, rows, [], attempts)


def test_the_writes_chart_is_scaled_to_the_writes_and_covers_the_whole_run() -> None:
    svg = writes_over_time(summarise(writes_run()), [("apply", T0 + 590)])
    y_ticks = [int(v) for v in re.findall(r'class="tick-y"[^>]*>(\d+)<', svg)]
    assert y_ticks == [0, 1, 2, 3, 4, 5]  # three writes: the axis ends at 5, not at 360
    x_ticks = re.findall(r'class="tick-x"[^>]*>([^<]+)<', svg)
    assert x_ticks == ["0", "10m", "20m", "30m", "40m", "50m", "1h"]  # the whole hour, round
    limit = re.search(r'class="limit" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"', svg)
    assert limit is not None
    # the limit line starts at the first write and is cut where it leaves the plot's top
    assert float(limit.group(4)) == pytest.approx(14.0, abs=0.1)
    assert float(limit.group(3)) < 560 - 16
    assert svg.count('class="failed"') == 1 and svg.count('class="refused"') == 2
    assert 'class="phase"' in svg


@pytest.mark.parametrize(
    ("span", "step"), [(3.2, 1), (59, 10), (600, 120), (3600, 600), (86400 * 2, 43200)]
)
def test_time_axis_steps_are_round(span: float, step: float) -> None:
    assert time_step(span) == step


@pytest.mark.parametrize(("top", "step"), [(2, 1), (5, 1), (10, 2), (20, 5), (2500, 500)])
def test_count_axis_steps_are_round(top: int, step: int) -> None:
    assert count_step(top) == step


@pytest.mark.parametrize(
    ("seconds", "label"), [(0, "0"), (0.5, "0.5s"), (30, "30s"), (90, "1m30s"), (3600, "1h")]
)
def test_tick_labels(seconds: float, label: str) -> None:
    assert tick_label(seconds) == label


def test_each_rule_counts_what_it_changed_not_what_other_rules_changed() -> None:
    """A url row that changed 2 scenarios shows 2, not the 4 that some rule changed."""
    rows = [ReportRow(_id(n), f"S{n}", "updated", sender_steps(2)) for n in range(1, 5)]
    changes = [
        ReportChange(_id(n), "script[0]", "sendSms.from", "Nordlicht", "NordBrand", "sms-sender", 2)
        for n in range(1, 5)
    ]
    changes += [
        ReportChange(_id(n), "script[1]", "request", "https://a/x", "https://b/x", "url", 3)
        for n in (1, 2)
    ]
    data = ReportData({"run_id": "r"}, rows, changes)
    summary = summarise(data)
    url = next(r for r in summary.by_rule if r.rule == "url")
    assert (url.sheet_rows, url.matched, url.changed, url.changes, url.written) == (1, 4, 2, 2, 2)
    html = render_html(data, summary)
    row = html.split('<tr data-rule="url">')[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "4", "2", "2", "2"]
    sheet_row = html.split('<tr data-sheet-row="3">')[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", sheet_row) == ["3", "4", "2", "2"]
