"""The account's write budget across processes, and how fast a Ctrl-C takes effect.

Against ``ivr-migrate sandbox`` counting a strict sliding window (6 writes per 6 s: the real
6/min compressed ten times), three measurements:

- two ``apply`` processes of two runs on the same account, started together, each told the
  account's rate: the 429 answers the server gave and the achieved rate of both together
  against the allowed one (they share the account's ledger, so they take turns);
- ``apply`` killed with SIGKILL, resumed at once, then ``rollback`` at once: 429 answers;
- SIGINT during ``apply``: seconds from the signal to the process's exit, and the writes that
  reached the server after the signal;
- one ``run`` over two accounts (``--accounts``), each with its own strict window: the wall
  time against the sum of both accounts' minimum write times, and the 429 answers.

    .venv/bin/python bench/budget.py [--scenarios N]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from _common import (
    client_env,
    emit,
    ivr_migrate,
    sandbox_process,
    table,
    write_sheet,
)

RATE = "6/6s"
ALLOWED_PER_S = 6 / 6


def command(verb: str, target: str, base_url: str, *extra: str) -> list[str]:
    return [
        *ivr_migrate(), verb, target, "--yes", "--quiet", "--base-url", base_url,
        "--write-rate", RATE, "--concurrency", "4", *extra,
    ]  # fmt: skip


def plan(sheet: Path, out: Path, base_url: str) -> None:
    args = [*ivr_migrate(), "plan", str(sheet), "--out", str(out), "--quiet",
            "--base-url", base_url]  # fmt: skip
    subprocess.run(args, env=client_env(), check=True, capture_output=True)


def puts_and_429s(log: list[dict[str, object]]) -> tuple[list[float], int]:
    puts = sorted(float(str(e["time"])) for e in log if e["method"] == "PUT" and e["status"] == 200)
    limited = sum(1 for e in log if e["status"] == 429)
    return puts, limited


def rate_of(puts: list[float]) -> float:
    return (len(puts) - 1) / (puts[-1] - puts[0]) if len(puts) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=24)
    args = parser.parse_args()
    rows: list[list[object]] = []
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-budget-"))
    with sandbox_process(scenarios=args.scenarios, write_rate=RATE) as server:
        ids = server.scenario_ids()
        half = len(ids) // 2
        runs = []
        for n, part in enumerate((ids[:half], ids[half:])):
            sheet = write_sheet(work / f"s{n}.csv", part, "rename", {"description": f"b{n}"})
            plan(sheet, work / f"run{n}", server.base_url)
            runs.append(work / f"run{n}")
        server.reset_log()
        started = time.monotonic()
        processes = [
            subprocess.Popen(command("apply", str(run), server.base_url), env=client_env())
            for run in runs
        ]
        codes = [process.wait() for process in processes]
        wall = time.monotonic() - started
        puts, limited = puts_and_429s(server.log())
        achieved = rate_of(puts)
        rows.append(
            [
                "two applies, one account, at once",
                f"{len(puts)} writes, exits {codes}",
                limited,
                f"{achieved:.3f}/s = {achieved / ALLOWED_PER_S:.1%} of allowed",
                f"{wall:.1f} s",
            ]
        )

    with sandbox_process(scenarios=args.scenarios, write_rate=RATE) as server:
        ids = server.scenario_ids()
        sheet = write_sheet(work / "k.csv", ids, "rename", {"description": "kill"})
        plan(sheet, work / "killed", server.base_url)
        apply = subprocess.Popen(command("apply", str(work / "killed"), server.base_url),
                                 env=client_env())  # fmt: skip
        while len(puts_and_429s(server.log())[0]) < 4:
            time.sleep(0.01)
        apply.send_signal(signal.SIGKILL)
        apply.wait()
        resumed = subprocess.run(command("apply", str(work / "killed"), server.base_url),
                                 env=client_env(), check=False)  # fmt: skip
        rolled = subprocess.run(command("rollback", str(work / "killed"), server.base_url),
                                env=client_env(), check=False)  # fmt: skip
        puts, limited = puts_and_429s(server.log())
        rows.append(
            [
                "SIGKILL, resume at once, rollback at once",
                f"{len(puts)} writes, exits {[resumed.returncode, rolled.returncode]}",
                limited,
                f"{rate_of(puts) / ALLOWED_PER_S:.1%} of allowed",
                "",
            ]
        )

    with sandbox_process(scenarios=args.scenarios, write_rate=RATE) as server:
        ids = server.scenario_ids()
        sheet = write_sheet(work / "i.csv", ids, "rename", {"description": "int"})
        plan(sheet, work / "interrupted", server.base_url)
        apply = subprocess.Popen(command("apply", str(work / "interrupted"), server.base_url),
                                 env=client_env(), stderr=subprocess.PIPE)  # fmt: skip
        while len(puts_and_429s(server.log())[0]) < 3:
            time.sleep(0.01)
        signalled = time.time()
        apply.send_signal(signal.SIGINT)
        apply.wait()
        exited = time.time() - signalled
        late = [
            e for e in server.log() if e["method"] == "PUT" and float(str(e["time"])) > signalled
        ]
        rows.append(
            [
                "SIGINT during apply",
                f"exit {apply.returncode}",
                "",
                f"{len(late)} writes after the signal",
                f"{exited:.2f} s to exit",
            ]
        )
    keys = {"eu": "bench-eu-key-0123456789", "us": "bench-us-key-9876543210"}
    extra = [arg for name, key in keys.items() for arg in ("--key", f"{name}={key}")]
    with sandbox_process(scenarios=args.scenarios, write_rate=RATE, extra=extra) as server:
        accounts = work / "accounts.toml"
        accounts.write_text(
            "".join(
                f'[accounts.{name}]\nbase_url = "{server.base_url}"\n'
                f'api_key_env = "{name.upper()}_BENCH_KEY"\nwrite_rate = "{RATE}"\n\n'
                for name in keys
            ),
            encoding="utf-8",
        )
        sheet = work / "two.csv"
        sheet.write_text(
            "account,scenario_id,rule,description\n"
            + "".join(f"{name},*,rename,two accounts\n" for name in keys),
            encoding="utf-8",
        )
        env = dict(client_env(), **{f"{n.upper()}_BENCH_KEY": k for n, k in keys.items()})
        started = time.monotonic()
        done = subprocess.run(
            [*ivr_migrate(), "run", str(sheet), "--yes", "--quiet", "--accounts", str(accounts),
             "--out", str(work / "two-accounts"), "--concurrency", "4"],
            env=env, check=False,
        )  # fmt: skip
        wall = time.monotonic() - started
        log = server.log()
        limited = sum(1 for e in log if e["status"] == 429)
        per_account = {
            name: sum(1 for e in log if e["method"] == "PUT" and e["account"] == name)
            for name in keys
        }
        interval = 1 / ALLOWED_PER_S
        minimum = sum(max(n - 1, 0) * interval for n in per_account.values())
        rows.append(
            [
                "one run, two accounts (each 6/6s)",
                f"{per_account} writes, exit {done.returncode}",
                limited,
                f"sum of minimum write times {minimum:.1f} s",
                f"{wall:.1f} s wall",
            ]
        )
    body = table(["case", "writes", "429s", "rate", "time"], rows)
    emit("budget", f"Write budget across processes, strict window {RATE}", body)


if __name__ == "__main__":
    main()
