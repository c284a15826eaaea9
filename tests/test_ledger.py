"""The account's shared write ledger: one write budget for every process on the machine.

Unit tests drive the ledger with an injected clock over a real SQLite file (two ``WriteLedger``
instances on one file stand for two processes); the multi-process tests run real processes
(tests/ledger_helper.py) at a compressed rate; the last test writes through two ``IvrClient``s to
a sandbox enforcing a strict window, over loopback.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ratelimit import run_virtual

from migrate.client import IvrClient
from migrate.config import Credentials, Rate
from migrate.errors import ConfigError
from migrate.ledger import (
    ENV_STATE_DIR,
    LOCKED_RETRY,
    AccountLedger,
    WriteLedger,
    account_id,
    default_ledger_path,
)
from migrate.ratelimit import WriteLimiter
from migrate.sandbox import SandboxConfig, start_sandbox

ACCOUNT = "account-a"
#: 3 writes per 9 s, no margin: one every 3 s.
RATE = Rate(3, 9.0)
HELPER = Path(__file__).with_name("ledger_helper.py")
TABLES = ("starts", "rates", "pauses")


class FakeClock:
    """Wall-clock time, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ledger.sqlite"


@pytest.fixture
def ledger(path: Path, clock: FakeClock) -> Iterator[WriteLedger]:
    with WriteLedger(path, clock=clock) as opened:
        yield opened


@pytest.fixture
def other(path: Path, clock: FakeClock, ledger: WriteLedger) -> Iterator[WriteLedger]:
    """A second connection to the same file: another process, as far as SQLite is concerned."""
    with WriteLedger(path, clock=clock) as opened:
        yield opened


def most_in_any_window(starts: list[float], window: float) -> int:
    """The largest number of starts inside one window ``(t - window, t]``.

    A start exactly one window after another is allowed; ``_ULP`` keeps float rounding of
    ``t - window`` from counting the earlier one in.
    """
    return max(sum(1 for s in starts if end - window + _ULP < s <= end) for end in starts)


_ULP = 1e-6


# -- the rules, with an injected clock -----------------------------------------------------------


def test_n_starts_then_a_wait_equal_to_the_windows_remainder(
    ledger: WriteLedger, clock: FakeClock
) -> None:
    first = clock.now
    for _ in range(RATE.count):
        assert ledger.try_start(ACCOUNT, RATE, 0.0) == 0.0
        clock.advance(RATE.interval)
    clock.advance(-1.5)  # 7.5 s after the first start

    assert ledger.try_start(ACCOUNT, RATE, 0.0) == pytest.approx(first + RATE.period - clock.now)
    assert ledger.starts(ACCOUNT) == [first, first + 3, first + 6]

    clock.advance(1.5)

    assert ledger.try_start(ACCOUNT, RATE, 0.0) == 0.0


def test_starts_are_spaced_by_one_interval_whoever_made_the_last(
    ledger: WriteLedger, other: WriteLedger, clock: FakeClock
) -> None:
    assert ledger.try_start(ACCOUNT, RATE, 0.0) == 0.0
    clock.advance(1.0)

    assert other.try_start(ACCOUNT, RATE, 0.0) == pytest.approx(2.0)
    assert ledger.try_start(ACCOUNT, RATE, 0.0) == pytest.approx(2.0)
    clock.advance(2.0)
    assert other.try_start(ACCOUNT, RATE, 0.0) == 0.0


def test_the_margin_lengthens_the_window_and_the_interval(
    ledger: WriteLedger, clock: FakeClock
) -> None:
    assert ledger.try_start(ACCOUNT, RATE, 0.1) == 0.0
    assert ledger.try_start(ACCOUNT, RATE, 0.1) == pytest.approx(3.3)


def test_accounts_have_separate_budgets(ledger: WriteLedger) -> None:
    assert ledger.try_start(ACCOUNT, RATE, 0.0) == 0.0
    assert ledger.try_start("account-b", RATE, 0.0) == 0.0
    assert ledger.try_start(ACCOUNT, RATE, 0.0) > 0


def test_two_ledgers_on_one_file_never_exceed_n_in_any_window(
    ledger: WriteLedger, other: WriteLedger, clock: FakeClock
) -> None:
    rate = Rate(5, 2.0)
    shuffle = random.Random(7)
    made: dict[int, list[float]] = {0: [], 1: []}
    while len(made[0]) + len(made[1]) < 60:
        which = shuffle.randrange(2)
        wait = (ledger, other)[which].try_start(ACCOUNT, rate, 0.0)
        if wait == 0.0:
            made[which].append(clock.now)
        clock.advance(shuffle.uniform(0.0, 0.3))

    assert most_in_any_window(made[0] + made[1], rate.period) <= rate.count
    assert made[0] and made[1]


def test_the_stricter_of_two_declared_rates_wins(
    ledger: WriteLedger, other: WriteLedger, clock: FakeClock
) -> None:
    loose, strict = Rate(5, 1.0), Rate(3, 10.0)
    burst_start = clock.now
    for _ in range(5):
        assert other.try_start(ACCOUNT, loose, 0.0) == 0.0
        clock.advance(0.2)

    # the loose burst already holds 3 starts of the strict window: its 3rd newest must leave it
    wait = ledger.try_start(ACCOUNT, strict, 0.0)
    assert wait == pytest.approx(burst_start + 0.4 + strict.period - clock.now)
    # and once the strict rate is declared, the loose process obeys it as well
    assert other.try_start(ACCOUNT, loose, 0.0) == pytest.approx(wait)


def test_a_declared_rate_lapses_one_window_after_its_last_attempt(
    ledger: WriteLedger, other: WriteLedger, clock: FakeClock
) -> None:
    loose, strict = Rate(5, 1.0), Rate(1, 10.0)
    assert ledger.try_start(ACCOUNT, strict, 0.0) == 0.0
    clock.advance(10.0)

    assert other.try_start(ACCOUNT, loose, 0.0) == 0.0
    clock.advance(loose.interval)
    assert other.try_start(ACCOUNT, loose, 0.0) == 0.0


def test_a_start_older_than_one_period_no_longer_counts(
    ledger: WriteLedger, other: WriteLedger, clock: FakeClock
) -> None:
    one_per_period = Rate(1, 30.0)
    assert ledger.try_start(ACCOUNT, one_per_period, 0.0) == 0.0
    ledger.close()  # the process that made it is gone
    clock.advance(29.5)
    assert other.try_start(ACCOUNT, one_per_period, 0.0) == pytest.approx(0.5)

    clock.advance(0.5)

    assert other.try_start(ACCOUNT, one_per_period, 0.0) == 0.0


def test_starts_outside_every_window_are_pruned(
    ledger: WriteLedger, path: Path, clock: FakeClock
) -> None:
    for _ in range(20):
        assert ledger.try_start(ACCOUNT, RATE, 0.0) == 0.0
        assert ledger.try_start("account-b", RATE, 0.0) == 0.0
        clock.advance(RATE.interval)
    assert len(ledger.starts(ACCOUNT)) == RATE.count  # pruned on each turn

    ledger.pause("account-b", 1.0)
    clock.advance(RATE.period)
    WriteLedger(path, clock=clock).close()  # a new process prunes every account

    db = sqlite3.connect(path)
    rows = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    db.close()
    assert rows == dict.fromkeys(TABLES, 0)


def test_a_start_dated_in_the_future_delays_others_by_one_window_at_most(
    ledger: WriteLedger, clock: FakeClock
) -> None:
    one_per_period = Rate(1, 30.0)
    assert ledger.try_start(ACCOUNT, one_per_period, 0.0) == 0.0
    clock.advance(-3600.0)  # the wall clock was set back an hour

    assert ledger.try_start(ACCOUNT, one_per_period, 0.0) == pytest.approx(30.0)
    clock.advance(30.0)
    assert ledger.try_start(ACCOUNT, one_per_period, 0.0) == 0.0


def test_a_pause_after_a_429_delays_the_other_ledger(
    ledger: WriteLedger, other: WriteLedger, clock: FakeClock
) -> None:
    ledger.pause(ACCOUNT, 5.0)
    ledger.pause(ACCOUNT, 1.0)  # a shorter pause never shortens a longer one

    assert other.paused_until(ACCOUNT) == clock.now + 5.0
    assert other.try_start(ACCOUNT, RATE, 0.0) == pytest.approx(5.0)
    clock.advance(5.0)
    assert other.try_start(ACCOUNT, RATE, 0.0) == 0.0


# -- where it lives ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({ENV_STATE_DIR: "/srv/ivr", "XDG_STATE_HOME": "/xdg"}, "/srv/ivr/ledger.sqlite"),
        ({"XDG_STATE_HOME": "/xdg"}, "/xdg/ivr-migrate/ledger.sqlite"),
        ({}, "/home/op/.local/state/ivr-migrate/ledger.sqlite"),
        ({"XDG_STATE_HOME": "relative/state"}, "/home/op/.local/state/ivr-migrate/ledger.sqlite"),
        ({ENV_STATE_DIR: " "}, "/home/op/.local/state/ivr-migrate/ledger.sqlite"),
    ],
    ids=["env-var", "xdg", "home", "relative-xdg-ignored", "blank-env-var-ignored"],
)
def test_the_ledger_path_comes_from_the_environment(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", "/home/op")
    assert default_ledger_path(env) == Path(expected)


def test_the_state_folder_and_file_are_created(tmp_path: Path) -> None:
    path = default_ledger_path({ENV_STATE_DIR: str(tmp_path / "a" / "b")})
    WriteLedger(path).close()
    assert path.is_file()


def test_an_unusable_state_folder_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    path = default_ledger_path({ENV_STATE_DIR: str(blocker / "state")})

    with pytest.raises(ConfigError) as raised:
        WriteLedger(path)

    message = str(raised.value)
    assert "\n" not in message
    assert str(path) in message
    assert ENV_STATE_DIR in message


def test_a_file_that_is_not_a_ledger_is_one_clear_line(path: Path) -> None:
    path.parent.mkdir()
    path.write_bytes(b"not a database, " * 100)

    with pytest.raises(ConfigError, match=f"{path}.*{ENV_STATE_DIR}"):
        WriteLedger(path)


# -- the account id ------------------------------------------------------------------------------


def test_the_account_id_never_holds_the_credential() -> None:
    for credentials in (
        Credentials.api_key("k3y-0123456789abcdef"),
        Credentials.basic("operator", "pa55word"),
        Credentials.bearer("t0ken-abcdef0123456789"),
    ):
        identity = account_id("https://x.example", credentials)
        for secret in [*credentials.secret_fragments(), credentials.authorization()]:
            assert secret not in identity
        assert len(identity) == 64


def test_the_account_id_differs_per_credential_and_per_base_url() -> None:
    key, other_key = Credentials.api_key("one"), Credentials.api_key("two")
    ids = {
        account_id("https://x.example", key),
        account_id("https://x.example", other_key),
        account_id("https://y.example", key),
        account_id("https://x.example/prefix", key),
        account_id("http://127.0.0.1:8080", key),
        account_id("http://127.0.0.1:8081", key),
    }
    assert len(ids) == 6


@pytest.mark.parametrize(
    "same",
    ["https://x.example", "https://X.example/", "HTTPS://x.EXAMPLE", "https://x.example:443"],
)
def test_the_account_id_ignores_case_trailing_slash_and_default_port(same: str) -> None:
    key = Credentials.api_key("one")
    assert account_id(same, key) == account_id("https://x.example", key)


# -- the async side ------------------------------------------------------------------------------


def test_take_turn_reports_each_wait_then_records_the_start(path: Path, clock: FakeClock) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        clock.advance(seconds)

    ledger = WriteLedger(path, clock=clock)
    turns = AccountLedger(ledger, ACCOUNT, on_wait=waits.append, sleep=fake_sleep)

    async def two_turns() -> list[float]:
        return [await turns.take_turn(RATE, 0.0), await turns.take_turn(RATE, 0.0)]

    assert asyncio.run(two_turns()) == [0.0, pytest.approx(RATE.interval)]
    assert waits == [pytest.approx(RATE.interval)]
    assert ledger.starts(ACCOUNT) == [clock.now - RATE.interval, clock.now]
    turns.close()


def test_a_waiting_turn_can_be_cancelled_and_records_nothing(path: Path, clock: FakeClock) -> None:
    ledger = WriteLedger(path, clock=clock)
    ledger.pause(ACCOUNT, 3600.0)

    async def cancel_while_waiting() -> None:
        waiting = asyncio.Event()
        turns = AccountLedger(ledger, ACCOUNT, on_wait=lambda _: waiting.set())
        task = asyncio.create_task(turns.take_turn(RATE, 0.0))
        await waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_waiting())
    assert ledger.starts(ACCOUNT) == []
    ledger.close()


def test_write_limiters_of_two_processes_share_the_window_and_the_pauses(path: Path) -> None:
    rate = Rate(4, 10.0)

    async def main() -> tuple[list[float], float]:
        loop = asyncio.get_running_loop()
        limiters = [
            WriteLimiter(
                rate,
                ledger=AccountLedger(WriteLedger(path, clock=loop.time), ACCOUNT, in_thread=False),
            )
            for _ in range(2)
        ]
        starts: list[float] = []

        async def writes(limiter: WriteLimiter, n: int) -> None:
            for _ in range(n):
                await limiter.acquire()
                starts.append(loop.time())

        await asyncio.gather(*(writes(limiter, 10) for limiter in limiters))
        limiters[0].slow_down(60.0)  # a 429 seen by the first process ...
        paused_at = loop.time()
        await limiters[1].acquire()  # ... holds back the second one
        return starts, loop.time() - paused_at

    starts, held_back = run_virtual(main())

    assert len(starts) == 20
    assert most_in_any_window(starts, rate.period * 1.02) == rate.count
    assert held_back == pytest.approx(60.0)


# -- real processes ------------------------------------------------------------------------------


def helper(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HELPER), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_three_processes_together_never_exceed_n_in_any_window(path: Path) -> None:
    rate, turns = Rate(5, 0.25), 10
    processes = [helper("turns", path, ACCOUNT, rate.count, rate.period, turns) for _ in range(3)]
    outputs = [process.communicate(timeout=60) for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    per_process = [[float(line) for line in out.split()] for out, _ in outputs]
    merged = [start for starts in per_process for start in starts]
    assert [len(starts) for starts in per_process] == [turns] * 3
    assert most_in_any_window(merged, rate.period) <= rate.count


def test_a_process_killed_inside_its_transaction_leaves_nothing_behind(path: Path) -> None:
    holder = helper("hold", path, ACCOUNT)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "holding\n"
        with WriteLedger(path, lock_timeout=0.05) as ledger:
            # while it holds the lock, others are told to come back, never given an error
            assert ledger.try_start(ACCOUNT, RATE, 0.0) == LOCKED_RETRY

            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)

            # its start and its one-per-hour rate were never committed: nothing to wait for
            assert ledger.try_start(ACCOUNT, RATE, 0.0) == 0.0
            assert len(ledger.starts(ACCOUNT)) == 1
    finally:
        holder.kill()
        holder.communicate()


# -- over loopback -------------------------------------------------------------------------------

WELCOME_ID = "0B0458310896E39079FC9CFC65BF4138"
BODY = {"name": "Shared budget", "script": ["hangup"]}


def test_two_clients_sharing_a_ledger_get_no_429_from_a_strict_window(path: Path) -> None:
    client_rate = Rate(5, 0.5)
    # the server counts a slightly shorter window, so loopback jitter cannot turn into a 429;
    # two clients at the full client rate without the ledger would send twice this
    config = SandboxConfig(write_rate=Rate(5, 0.4), read_rate=None)

    with start_sandbox(config) as sandbox:
        credentials = Credentials.api_key(sandbox.api_key)
        account = account_id(sandbox.base_url, credentials)

        ledgers = [AccountLedger(WriteLedger(path), account) for _ in range(2)]

        async def writes() -> None:
            clients = [
                IvrClient(sandbox.base_url, credentials, write_rate=client_rate, ledger=ledger)
                for ledger in ledgers
            ]

            async def five_puts(client: IvrClient) -> None:
                async with client:
                    for _ in range(5):
                        await client.update_scenario(WELCOME_ID, BODY)

            await asyncio.gather(*(five_puts(client) for client in clients))

        asyncio.run(writes())
        for ledger in ledgers:
            ledger.close()
        outcomes = [entry.outcome for entry in sandbox.request_log()]
        put_counts = sandbox.put_counts()

    assert "limited" not in outcomes
    assert put_counts == {WELCOME_ID: 10}


def test_a_client_takes_a_ledger_or_a_write_limiter_not_both(path: Path) -> None:
    ledger = AccountLedger(WriteLedger(path), ACCOUNT)
    with pytest.raises(ValueError, match="ledger"):
        IvrClient(
            "https://x.example",
            Credentials.api_key("k"),
            ledger=ledger,
            write_limiter=WriteLimiter(RATE),
        )
    ledger.close()
