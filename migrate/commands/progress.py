"""Rendering the engine's progress events on stderr: a rich bar on a terminal, lines otherwise.

The engine only calls a :data:`~migrate.engine.options.ProgressCallback`; these render it.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any, Final

from migrate.engine.options import NOTICE, ProgressEvent
from migrate.vocabulary import tally_line

#: Seconds between two plain progress lines (no terminal).
PLAIN_INTERVAL: Final = 5.0


class PlainProgress:
    """A line every few seconds: ``apply: 40/120 (33%), 0.10/s, ETA 13m20s — 40 updated``."""

    def __init__(self, stream: IO[str] | None = None, interval: float = PLAIN_INTERVAL) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self._started: dict[str, float] = {}
        self._last = time.monotonic()

    def __call__(self, event: ProgressEvent) -> None:
        if event.message is not None:
            self.stream.write(event.message + "\n")
            self.stream.flush()
            return
        # a line every few seconds; short runs print none (the tally follows anyway)
        now = time.monotonic()
        key = f"{event.operation}:{event.phase}"
        started = self._started.setdefault(key, now)
        if now - self._last < self.interval:
            return
        self._last = now
        self.stream.write(describe(event, now - started) + "\n")
        self.stream.flush()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def describe(event: ProgressEvent, elapsed: float) -> str:
    """One line about an event."""
    label = f"{event.operation} ({event.phase})"
    if event.total is None:
        return f"{label}: {event.done} scenarios listed"
    percent = 100 * event.done / event.total if event.total else 100
    text = f"{label}: {event.done}/{event.total} ({percent:.0f}%)"
    if elapsed > 0 and event.done:
        rate = event.done / elapsed
        text += f", {rate:.2f}/s"
        if event.done < event.total:
            text += f", ETA {duration(max(event.total - event.done, 0) / rate)}"
    if event.counts:
        text += f" — {tally_line(event.counts)}"
    return text


def duration(seconds: float) -> str:
    """``2h05m``, ``13m20s``, ``42s``."""
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


class RichProgress:
    """A rich progress bar per phase, with done/total, rate and ETA, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=Console(file=sys.stderr),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        if event.message is not None:
            from rich.text import Text

            self._progress.console.print(Text(event.message))
            return
        key = f"{event.operation} ({event.phase})"
        now = time.monotonic()
        if key not in self._tasks:
            self._tasks[key] = self._progress.add_task(key, total=event.total, rate="", counts="")
            self._started[key] = now
        elapsed = now - self._started[key]
        rate = f"{event.done / elapsed:.2f}/s" if elapsed > 0 and event.done else ""
        fields: dict[str, Any] = {"rate": rate, "counts": tally_line(event.counts)}
        if not event.counts:
            fields["counts"] = ""
        self._progress.update(self._tasks[key], completed=event.done, total=event.total, **fields)


class NoProgress:
    """Progress off (``--quiet``, ``--no-progress``)."""

    def __call__(self, event: ProgressEvent) -> None:
        if event.message is not None and event.phase == NOTICE:
            sys.stderr.write(event.message + "\n")
            sys.stderr.flush()

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


Renderer = PlainProgress | RichProgress | NoProgress


def renderer(*, quiet: bool, progress: bool | None) -> Renderer:
    """A bar on a terminal, a line every few seconds otherwise, or nothing."""
    if quiet or progress is False:
        return NoProgress()
    if sys.stderr.isatty():
        return RichProgress()
    return PlainProgress()
