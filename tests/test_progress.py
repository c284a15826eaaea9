"""Progress on stderr (issue 14.5): a line or bar per account (done/total, rate, ETA) and, over
several accounts, a run line whose ETA is the slowest account's. Synthetic events, a fake clock
and a fake stream: nothing sleeps."""

from __future__ import annotations

import io

from rich.console import Console

from migrate.commands.progress import PlainProgress, RichProgress
from migrate.engine.options import NOTICE, ProgressEvent
from migrate.vocabulary import Operation, RowState


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def written(done: int, total: int, account: str = "") -> ProgressEvent:
    counts: dict[str, int] = {RowState.UPDATED: done}
    return ProgressEvent(Operation.APPLY, "write", done, total, counts, account=account)


def feed(render: PlainProgress | RichProgress, clock: FakeClock, steps: list[tuple]) -> None:
    for at, done, total, account in steps:
        clock.now = at
        render(written(done, total, account))


#: (time, done, total, account): eu writes one row a second, us one every five seconds.
TWO_ACCOUNTS = [
    (1.0, 1, 10, "eu"),
    (1.0, 1, 4, "us"),
    (3.0, 2, 4, "us"),  # within the interval: no line
    (6.0, 6, 10, "eu"),  # lines: eu 1.00/s, us 0.20/s
    (8.0, 10, 10, "eu"),
    (11.0, 3, 4, "us"),  # lines: eu done, us one row left
    (16.0, 4, 4, "us"),  # lines: us done (eu said so already)
]


def test_plain_progress_has_a_line_per_account_and_the_run_eta_of_the_slowest() -> None:
    stream, clock = io.StringIO(), FakeClock()
    feed(PlainProgress(stream, interval=5.0, clock=clock), clock, TWO_ACCOUNTS)
    assert stream.getvalue().splitlines() == [
        # at 6 s: eu did 5 rows in 5 s since its first, us 1 in 5 s; us ends last
        "apply (write) eu: 6/10 (60%), 1.00/s, ETA 4s — 6 updated",
        "apply (write) us: 2/4 (50%), 0.20/s, ETA 10s — 2 updated",
        "apply (write) all accounts: 8/14 (57%), ETA 10s (slowest: us)",
        # at 11 s
        "apply (write) eu: 10/10 (100%), 0.90/s — 10 updated",
        "apply (write) us: 3/4 (75%), 0.20/s, ETA 5s — 3 updated",
        "apply (write) all accounts: 13/14 (93%), ETA 5s (slowest: us)",
        # at 16 s
        "apply (write) us: 4/4 (100%), 0.20/s — 4 updated",
        "apply (write) all accounts: 14/14 (100%)",
    ]


def test_the_run_eta_is_unknown_while_an_account_has_no_rate_yet() -> None:
    stream, clock = io.StringIO(), FakeClock()
    steps = [(1.0, 1, 10, "eu"), (2.0, 1, 4, "us"), (6.0, 5, 10, "eu")]
    feed(PlainProgress(stream, interval=5.0, clock=clock), clock, steps)
    assert stream.getvalue().splitlines() == [
        "apply (write) eu: 5/10 (50%), 0.80/s, ETA 6s — 5 updated",
        "apply (write) us: 1/4 (25%) — 1 updated",
        "apply (write) all accounts: 6/14 (43%)",
    ]


def test_a_run_over_one_account_has_one_line_and_no_run_line() -> None:
    stream, clock = io.StringIO(), FakeClock()
    steps = [(1.0, 1, 10, ""), (6.0, 6, 10, ""), (8.0, 8, 10, "")]
    feed(PlainProgress(stream, interval=5.0, clock=clock), clock, steps)
    assert stream.getvalue().splitlines() == [
        "apply (write): 6/10 (60%), 1.00/s, ETA 4s — 6 updated",
    ]


def test_notices_print_at_once() -> None:
    stream, clock = io.StringIO(), FakeClock()
    render = PlainProgress(stream, interval=5.0, clock=clock)
    render(ProgressEvent(Operation.APPLY, NOTICE, 0, None, {}, "eu: stopping", "eu"))
    assert stream.getvalue() == "eu: stopping\n"


def test_rich_progress_has_a_bar_per_account_and_a_run_bar() -> None:
    stream, clock = io.StringIO(), FakeClock()
    render = RichProgress(Console(file=stream, width=200), clock=clock)
    with render:
        feed(render, clock, TWO_ACCOUNTS[:4])
    lines = [" ".join(line.split()) for line in stream.getvalue().splitlines()]
    bars = {line.split(" ━")[0]: line for line in lines if "━" in line}
    assert set(bars) == {
        "apply (write) eu",
        "apply (write) us",
        "apply (write) all accounts",
    }
    assert "6/10 1.00/s" in bars["apply (write) eu"]
    assert bars["apply (write) eu"].endswith("ETA 4s 6 updated")
    assert bars["apply (write) us"].endswith("ETA 10s 2 updated")
    assert "8/14" in bars["apply (write) all accounts"]
    assert bars["apply (write) all accounts"].endswith("ETA 10s slowest: us")
