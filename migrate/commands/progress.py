"""Rendering the engine's progress events on stderr: a rich bar on a terminal, lines otherwise.

The engine only calls a :data:`~migrate.engine.options.ProgressCallback`; these render it. A run
over several accounts writes to all of them at once, each within its own limit: its events
carry their account, and each account gets its own line or bar (done/total, rate, ETA), plus a
run line whose ETA is the slowest account's, since the run ends when that one does.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Final

from migrate.engine.options import NOTICE, ProgressEvent
from migrate.vocabulary import tally_line

if TYPE_CHECKING:
    from rich.console import Console

#: Seconds between two plain progress lines (no terminal).
PLAIN_INTERVAL: Final = 5.0
Clock = Callable[[], float]


@dataclass
class Track:
    """One account's progress in one phase of an operation, from its events."""

    event: ProgressEvent
    #: When its first event came, and how many rows were done then: the rate is measured
    #: from there.
    first_at: float
    first_done: int
    #: A plain renderer has printed its finished line.
    shown_finished: bool = False

    @property
    def label(self) -> str:
        """``apply (write)``, and the account of a run over several."""
        label = f"{self.event.operation} ({self.event.phase})"
        return f"{label} {self.event.account}" if self.event.account else label

    @property
    def finished(self) -> bool:
        total = self.event.total
        return total is not None and self.event.done >= total

    def rate(self, now: float) -> float | None:
        """Rows per second since the first event (None until a second row is done)."""
        elapsed = now - self.first_at
        done = self.event.done - self.first_done
        return done / elapsed if elapsed > 0 and done > 0 else None

    def eta(self, now: float) -> float | None:
        """Seconds left at the rate so far: 0 when finished, None when not known yet."""
        total = self.event.total
        if total is None:
            return None
        if self.event.done >= total:
            return 0.0
        rate = self.rate(now)
        return None if rate is None else (total - self.event.done) / rate


class Tracks:
    """Every (operation, phase, account) seen so far, in the order first seen."""

    def __init__(self) -> None:
        self._tracks: dict[tuple[str, str, str], Track] = {}

    def update(self, event: ProgressEvent, now: float) -> Track:
        key = (event.operation, event.phase, event.account)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = Track(event, now, event.done)
        track.event = event
        return track

    def phase(self, operation: str, phase: str) -> list[Track]:
        """The tracks of one phase of an operation: one per account."""
        return [t for (op, ph, _), t in self._tracks.items() if (op, ph) == (operation, phase)]


@dataclass(frozen=True)
class RunProgress:
    """The accounts of one phase together: rows done of all, and the slowest account's ETA."""

    done: int
    total: int | None
    eta: float | None
    slowest: str | None


def run_progress(tracks: list[Track], now: float) -> RunProgress | None:
    """The run's progress over several accounts; None for a run over one account."""
    if sum(1 for track in tracks if track.event.account) < 2:
        return None
    totals = [track.event.total for track in tracks]
    total = None if any(t is None for t in totals) else sum(t or 0 for t in totals)
    done = sum(track.event.done for track in tracks)
    etas = {track.event.account: track.eta(now) for track in tracks if not track.finished}
    if any(eta is None for eta in etas.values()):
        return RunProgress(done, total, None, None)
    slowest = max(etas, key=lambda name: etas[name] or 0.0, default=None)
    return RunProgress(done, total, etas[slowest] if slowest else 0.0, slowest)


def describe(track: Track, now: float) -> str:
    """One line about an account's phase: ``apply (write) eu: 40/120 (33%), 0.10/s, ETA
    13m20s — 40 updated``."""
    event = track.event
    if event.total is None:
        return f"{track.label}: {event.done} scenarios listed"
    text = f"{track.label}: {event.done}/{event.total} ({percent(event.done, event.total)})"
    rate = track.rate(now)
    if rate is not None:
        text += f", {rate:.2f}/s"
    eta = track.eta(now)
    if eta is not None and not track.finished:
        text += f", ETA {duration(eta)}"
    if event.counts:
        text += f" — {tally_line(event.counts)}"
    return text


def describe_run(operation: str, phase: str, run: RunProgress) -> str:
    """The run line: ``apply (write) all accounts: 80/240 (33%), ETA 26m40s (slowest: us)``."""
    text = f"{operation} ({phase}) all accounts: {run.done}"
    if run.total is not None:
        text += f"/{run.total} ({percent(run.done, run.total)})"
    if run.eta is not None and run.slowest is not None:
        text += f", ETA {duration(run.eta)} (slowest: {run.slowest})"
    return text


def percent(done: int, total: int) -> str:
    return f"{100 * done / total if total else 100:.0f}%"


class PlainProgress:
    """Every few seconds, a line per account of the phase under way (and a run line when there
    are several): ``apply (write): 40/120 (33%), 0.10/s, ETA 13m20s — 40 updated``."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        interval: float = PLAIN_INTERVAL,
        clock: Clock = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.clock = clock
        self.tracks = Tracks()
        self._last = clock()

    def __call__(self, event: ProgressEvent) -> None:
        if event.message is not None:
            self.stream.write(event.message + "\n")
            self.stream.flush()
            return
        # lines every few seconds; short runs print none (the tally follows anyway)
        now = self.clock()
        self.tracks.update(event, now)
        if now - self._last < self.interval:
            return
        self._last = now
        tracks = self.tracks.phase(event.operation, event.phase)
        lines = []
        for track in tracks:
            if track.shown_finished:
                continue  # an account that is done says so once
            lines.append(describe(track, now))
            track.shown_finished = track.finished
        run = run_progress(tracks, now)
        if run is not None:
            lines.append(describe_run(event.operation, event.phase, run))
        self.stream.write("".join(line + "\n" for line in lines))
        self.stream.flush()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def duration(seconds: float) -> str:
    """``2h05m``, ``13m20s``, ``42s``."""
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


class RichProgress:
    """A rich progress bar per phase and account, with done/total, rate and ETA, on stderr;
    over several accounts, a run bar whose ETA is the slowest account's."""

    def __init__(self, console: Console | None = None, clock: Clock = time.monotonic) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[counts]}"),
            console=console or Console(file=sys.stderr),
            transient=False,
            get_time=clock,
        )
        self.clock = clock
        self.tracks = Tracks()
        #: Bars by (operation, phase, account), and the run bars by (operation, phase).
        self._tasks: dict[tuple[str, ...], TaskID] = {}

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
        now = self.clock()
        self.tracks.update(event, now)
        tracks = self.tracks.phase(event.operation, event.phase)
        # every account's bar: the rate and ETA of one that has gone quiet fall behind too
        for track in tracks:
            rate = track.rate(now)
            self._show(
                (track.event.operation, track.event.phase, track.event.account),
                track.label,
                track.event.done,
                track.event.total,
                rate="" if rate is None else f"{rate:.2f}/s",
                eta=_eta_text(track.eta(now)),
                counts=tally_line(track.event.counts) if track.event.counts else "",
            )
        run = run_progress(tracks, now)
        if run is not None:
            self._show(
                (event.operation, event.phase),
                f"{event.operation} ({event.phase}) all accounts",
                run.done,
                run.total,
                rate="",
                eta=_eta_text(run.eta),
                counts=f"slowest: {run.slowest}" if run.slowest else "",
            )

    def _show(
        self, key: tuple[str, ...], label: str, done: int, total: int | None, **fields: Any
    ) -> None:
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = self._progress.add_task(label, total=total, **fields)
        self._progress.update(task, completed=done, total=total, **fields)


def _eta_text(seconds: float | None) -> str:
    return "-:--:--" if seconds is None else duration(seconds)


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
