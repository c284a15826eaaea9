"""Where the client's CPU goes in one ``ivr-migrate run``: py-spy samples, grouped.

The run of bench/throughput.py (one ``rename`` row per scenario, ``--concurrency 32``, limits
lifted, 0 ms added latency by default) against a fresh sandbox in its own process, recorded by
``py-spy record --subprocesses --format raw`` (the child that writes the reports is sampled too;
idle threads are not). Each sample goes to one group:

1. the report child (``ivr-migrate report``), its imports apart;
2. imports (any stack inside ``_find_and_load``): start-up, and modules imported late;
3. otherwise the innermost frame that belongs to a group of GROUPS decides (a ``json.dumps``
   called by the journal counts as JSON, the journal's own code and sqlite3 as journal);
4. the rest: the engine's own code (by file), else "other".

Without ``--gil`` a thread blocked in a system call that py-spy does not take for idle (the
journal's fsync at ``synchronous=FULL``) counts as busy; with it, only the thread holding the GIL
is sampled, so C code that releases the GIL (sqlite3's commit) does not show.

Each group also shows which phase its samples ran in: plan (a frame of migrate/engine/plan.py
on the stack), apply (execute.py or apply.py), or neither (event-loop callbacks, start-up, exit).

    .venv/bin/python bench/profile_run.py [--quick] [--scenarios N] [--latency MS] [--rate HZ]
        [--gil] [--repeat N] [--keep FILE]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    UNLIMITED_RATE,
    client_env,
    emit,
    ivr_migrate,
    sandbox_process,
    table,
    write_sheet,
)

RULE = "rename"
PARAMS = {"name": "{name} (2026)"}
PY_SPY = Path(sys.executable).parent / "py-spy"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")

#: (group, file prefixes, function names); the innermost frame matching one decides.
GROUPS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("fingerprints / JSON", ("json/",), ("fingerprint", "canonical_json")),
    ("journal (SQLite)", ("migrate/journal.py", "sqlite3/"), ()),
    ("rules + validation", ("transforms/",), ()),
    ("progress rendering", ("rich/", "migrate/engine/progress.py"), ()),
    ("sheet read + check", ("migrate/sheet.py", "migrate/sheet_files.py", "csv.py"), ()),
    ("migrate/client.py + limiters", ("migrate/client.py", "migrate/ratelimit.py"), ()),
    ("migrate/client.py + limiters", ("aiolimiter/", "migrate/retry.py"), ()),
    (
        "aiohttp + asyncio per request",
        ("aiohttp/", "yarl/", "multidict/", "asyncio/", "selectors.py", "ssl.py", "socket.py"),
        (),
    ),
    ("CLI (click, migrate/cli.py)", ("click/", "migrate/cli.py"), ()),
    # the journal's writer thread between commits: py-spy may take its wait for CPU
    ("thread pool, waiting for work", ("concurrent/futures/", "threading.py"), ()),
]
PLAN_FILES = ("migrate/engine/plan.py",)
APPLY_FILES = ("migrate/engine/execute.py", "migrate/engine/apply.py")


def frames(stack: str) -> list[tuple[str, str]]:
    """``(function, file)`` of each frame, outermost first; a process as ``("process", cmd)``."""
    found = []
    for frame in stack.split(";"):
        if frame.startswith("process "):
            found.append(("process", frame))
            continue
        match = _FRAME.match(frame)
        found.append((match["function"], match["file"]) if match else (frame, ""))
    return found


def group_of(stack: list[tuple[str, str]]) -> str:
    processes = [file for function, file in stack if function == "process"]
    in_import = any(function == "_find_and_load" for function, _ in stack)
    if len(processes) > 1 and " report " in processes[-1]:
        return "report child: imports" if in_import else "report child: reading, tables, files"
    if in_import:
        return "imports (start-up and late)"
    for function, file in reversed(stack):
        for group, prefixes, functions in GROUPS:
            if file.startswith(prefixes) or function in functions:
                return group
    for _, file in reversed(stack):
        if file.startswith("migrate/"):
            return f"engine: {file.split(':')[0]}"
    if all(function == "process" for function, _ in stack):
        return "no Python frame (interpreter start, exit)"
    return "other"


def imported_package(stack: list[tuple[str, str]]) -> str | None:
    """The outermost third-party or standard package a stack is importing, if any."""
    importing = False
    for function, file in stack:
        importing = importing or function == "_find_and_load"
        ours = file.startswith(("migrate/", "transforms/", "<"))
        if importing and function == "<module>" and not ours:
            return file.split("/")[0].removesuffix(".py")
    return None


def phase_of(stack: list[tuple[str, str]]) -> str:
    # a module being imported is not its functions running
    files = [file for function, file in stack if function != "<module>"]
    if any(file.startswith(PLAN_FILES) for file in files):
        return "plan"
    if any(file.startswith(APPLY_FILES) for file in files):
        return "apply"
    return "neither"


@dataclass
class Tally:
    groups: Counter[str] = field(default_factory=Counter)
    #: group -> phase -> samples
    phases: dict[str, Counter[str]] = field(default_factory=dict)
    #: process ("client" or "report child") -> imported package -> samples
    imports: dict[str, Counter[str]] = field(default_factory=dict)


def tally(lines: Iterable[str]) -> Tally:
    found = Tally()
    for line in lines:
        stack, _, text = line.rstrip("\n").rpartition(" ")
        if not stack or not text.isdigit():
            continue
        count = int(text)
        parsed = frames(stack)
        group = group_of(parsed)
        found.groups[group] += count
        found.phases.setdefault(group, Counter())[phase_of(parsed)] += count
        package = imported_package(parsed)
        if package:
            process = "report child" if group.startswith("report child") else "client"
            found.imports.setdefault(process, Counter())[package] += count
    return found


def record(args: argparse.Namespace, workdir: Path, output: Path) -> str:
    workdir.mkdir()
    with sandbox_process(scenarios=args.scenarios, latency_ms=args.latency) as sandbox:
        sheet = write_sheet(workdir / "sheet.csv", sandbox.scenario_ids(), RULE, PARAMS)
        argv = [
            str(PY_SPY),
            "record",
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            str(args.rate),
            *(["--gil"] if args.gil else []),
            "--output",
            str(output),
            "--",
            *ivr_migrate(),
            "run",
            str(sheet),
            "--yes",
            "--quiet",
            "--base-url",
            sandbox.base_url,
            "--write-rate",
            UNLIMITED_RATE,
            "--read-rate",
            UNLIMITED_RATE,
            "--concurrency",
            "32",
            "--out",
            str(workdir / "run"),
        ]
        done = subprocess.run(argv, env=client_env(), capture_output=True, text=True, check=False)
    said = done.stdout + done.stderr
    if done.returncode != 0:
        raise SystemExit(f"py-spy or ivr-migrate failed ({done.returncode}):\n{said}")
    # py-spy's own summary line: "Wrote raw flamegraph data to '…'. Samples: N Errors: N"
    summary = next((line for line in said.splitlines() if "Samples:" in line), "")
    return summary.rpartition(". ")[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 scenarios instead of 2,000")
    parser.add_argument("--scenarios", type=int, help="scenarios on the sandbox")
    parser.add_argument("--latency", type=float, default=0.0, help="added server latency (ms)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples a second")
    parser.add_argument(
        "--gil", action="store_true", help="sample only the thread holding the GIL (py-spy --gil)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="record N runs (each on a fresh sandbox), summed"
    )
    parser.add_argument("--keep", type=Path, help="also keep py-spy's raw stacks in this file")
    args = parser.parse_args()
    args.scenarios = args.scenarios or (200 if args.quick else 2000)
    if not PY_SPY.exists():
        raise SystemExit(f"{PY_SPY} is missing: make install (the dev extra has py-spy)")
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-profile-"))
    try:
        stacks: list[str] = []
        said = []
        for run in range(max(1, args.repeat)):
            raw = workdir / f"stacks-{run}.txt"
            said.append(record(args, workdir / f"run-{run}", raw))
            stacks += raw.read_text(encoding="utf-8", errors="replace").splitlines()
        if args.keep:
            args.keep.write_text("\n".join(stacks) + "\n", encoding="utf-8")
        found = tally(stacks)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    groups, phases = found.groups, found.phases
    total = sum(groups.values()) or 1
    rows = [
        [
            group,
            count,
            f"{100 * count / total:.1f}%",
            *(f"{100 * phases[group][phase] / total:.1f}%" for phase in ("plan", "apply")),
        ]
        for group, count in groups.most_common()
    ]
    body = table(["group", "samples", "share", "in plan", "in apply"], rows)
    notes = [
        f"ivr-migrate run, {args.scenarios:,} scenarios, --concurrency 32, {args.latency:g} ms "
        f"added latency, py-spy at {args.rate} Hz with --subprocesses"
        f"{' --gil' if args.gil else ''} (idle threads not sampled), {max(1, args.repeat)} "
        f"run(s) summed: {total:,} samples.",
        *said,
        *(
            f"imports in the {process}, by package (share of all samples): "
            + ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in packages.most_common(8))
            for process, packages in sorted(found.imports.items())
        ),
    ]
    emit("profile_run", "Where ivr-migrate run spends its client CPU (py-spy)", body, notes)


if __name__ == "__main__":
    main()
