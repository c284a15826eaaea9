"""report.html in headless Chromium at 1400 and 600 px: layout, not pixels.

Chromium runs as a real browser on a throwaway profile; the test drives it over the DevTools
protocol (a websocket on 127.0.0.1) to size the window, load the page, measure the layout
(``Runtime.evaluate``) and take a full-page screenshot. Skipped when Debian's ``chromium`` is not
installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_reports_sample import T0, sample_data, sender_steps

from migrate.reports import ReportChange, ReportData, ReportRow, write_reports

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)
#: How long Chromium may take to start and to load a page (a bound, not a measurement).
START_WAIT = 60.0
LONG_PATH = 'script[3].switch.case["__default"][2].answeringMachineDetection.onTimeout[0]'
UNCHANGED = 40

#: Measures the page after opening every <details>; returns plain JSON.
MEASURE = """(() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const root = document.documentElement;
  const segments = [...document.querySelectorAll('td.path .seg')];
  let wraps = 0;
  for (const code of document.querySelectorAll('td.path code')) {
    const parts = [...code.querySelectorAll('.seg')];
    for (let i = 1; i < parts.length; i++) {
      const above = parts[i - 1].getBoundingClientRect(), here = parts[i].getBoundingClientRect();
      if (here.top > above.top + 2) wraps++;
    }
  }
  const list = document.querySelector('#outcome-unchanged ul.plain');
  return {
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    height: root.scrollHeight,
    segments: segments.length,
    brokenSegments: segments.filter(s => s.getClientRects().length !== 1).length,
    segmentStarts: [...new Set(segments.map(s => s.textContent[0]))].join(''),
    pathWraps: wraps,
    unchangedItems: list ? list.querySelectorAll('li').length : -1,
    unchangedListHeight: list ? list.getBoundingClientRect().height : 0,
    unchangedBoxes: document.querySelectorAll('#outcome-unchanged details.scenario').length,
    writesChart: !!document.querySelector('#writes-chart svg'),
    dryRunBanner: !!document.querySelector('#dry-run'),
    overflowing: [...document.querySelectorAll('main *')]
      .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1 && !e.closest('.scroll'))
      .slice(0, 5).map(e => e.tagName + '.' + e.className),
  };
})()"""


def browser_data() -> ReportData:
    """The sample run plus what stresses the layout: a deep field path, a long text with two
    edits, and a run of unchanged scenarios."""
    data = sample_data()
    first = data.rows[0].scenario_id
    text = "Nordlicht: track your parcel at https://nordlicht.example/t/${id} " * 3
    data.changes += [
        ReportChange(first, LONG_PATH, "callApi.options.headers", "Nordlicht", "NordBrand", "url"),
        ReportChange(
            first,
            "script[5]",
            "sendSms.text",
            text,
            text.replace("ordlicht", "ordBrand"),
            "sms-text",
        ),
    ]
    data.rows += [
        ReportRow(
            f"{n:032X}",
            f"Unchanged scenario number {n} — Kovač & Partners",
            "unchanged",
            sender_steps(2),
            planned_at=T0,
        )
        for n in range(100, 100 + UNCHANGED)
    ]
    data.metadata.update(sheet_sha256="9f" * 32, sheet_name="rebrand-2026.csv")
    return data


@dataclass
class Page:
    """A DevTools session on one page target."""

    ws: aiohttp.ClientWebSocketResponse
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    events: list[str] = field(default_factory=list)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.ws.send_json({"id": number, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=START_WAIT)
            if message.get("id") == number:
                assert "error" not in message, message
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message["method"])

    async def until(self, event: str) -> None:
        while event not in self.events:
            message = await self.ws.receive_json(timeout=START_WAIT)
            if "method" in message:
                self.events.append(message["method"])


@contextmanager
def chromium(profile: Path) -> Iterator[int]:
    """A headless Chromium; yields its DevTools port."""
    assert CHROMIUM is not None
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_WAIT
        while not (active.is_file() and active.read_text().strip()):
            assert process.poll() is None, "chromium exited"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        yield int(active.read_text().split()[0])
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def look(port: int, url: str, width: int, shot: Path) -> dict[str, Any]:
    """Load ``url`` at ``width`` px, measure it, and save a full-page screenshot."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json()
        target = next(t for t in targets if t["type"] == "page")
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            await page.call("Page.enable")
            await page.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            await page.call("Page.navigate", url=url)
            await page.until("Page.loadEventFired")
            found = await page.call("Runtime.evaluate", expression=MEASURE, returnByValue=True)
            layout: dict[str, Any] = found["result"]["value"]
            picture = await page.call(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": width, "height": layout["height"], "scale": 1},
            )
            shot.write_bytes(base64.b64decode(picture["data"]))
            return layout


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_report_layout_at_1400_and_600_px(tmp_path: Path, dry_run: bool) -> None:
    data = browser_data()
    if dry_run:
        data.metadata["phase"] = "plan"
    files = write_reports(tmp_path / "run", data, dry_run=dry_run)
    layouts = {}
    with chromium(tmp_path / "profile") as port:
        for width in (1400, 600):
            shot = tmp_path / f"report-{width}.png"
            layouts[width] = asyncio.run(look(port, files.html.resolve().as_uri(), width, shot))
            assert png_size(shot) == (width, layouts[width]["height"])
    for width, layout in layouts.items():
        # no horizontal overflow: wide tables scroll inside their own box
        assert layout["scrollWidth"] <= layout["clientWidth"], (width, layout)
        assert width - 20 <= layout["clientWidth"] <= width  # less a vertical scrollbar
        assert layout["overflowing"] == [], (width, layout)
        # the unchanged scenarios (the sample has one) are one list, shown, not a box each
        assert layout["unchangedItems"] == UNCHANGED + 1 and layout["unchangedBoxes"] == 0
        assert layout["unchangedListHeight"] > 0
        # field paths wrap only between segments, and every segment starts at a separator
        assert layout["segments"] > 0 and layout["brokenSegments"] == 0, layout
        assert set(layout["segmentStarts"]) <= set("s.[n"), layout["segmentStarts"]
        assert layout["writesChart"] is not dry_run
        assert layout["dryRunBanner"] is dry_run
    assert layouts[600]["pathWraps"] > 0  # the deep path does wrap on a narrow screen
    assert layouts[600]["height"] > layouts[1400]["height"]
