"""Shared helpers of the benchmark scripts: tables, results files, child processes, the sandbox.

Benchmarks are not tests: they print figures, they assert nothing about time. Every script
measures its baseline and ivr-migrate in the same run (the machines we run on are noisy) and
prints the ratio.

This module stays light on purpose (no aiohttp, no pandas): the parent process of a benchmark
should not inflate the figures it reports about its children.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SEED_DIR = ROOT / "migrate" / "seed"
API_ROOT = "/voice/ivr/1/scenarios"
#: The sandbox's largest page (migrate/sandbox/app.py MAX_PAGE_SIZE).
PAGE_SIZE = 50
#: The key the benchmark sandboxes accept; loopback only, never a real credential.
BENCH_KEY = "bench-key-0123456789abcdef"
#: "Unlimited" for the client's limiters.
UNLIMITED_RATE = "1000000/1s"
#: What the throughput sides append to every scenario's name (``rename`` rule ``{name} (2026)``).
NAME_SUFFIX = " (2026)"
#: The fields a PUT sends back (the read-only ones, id and times, are left out).
WRITABLE_FIELDS = ("name", "description", "script")
#: How long we wait for a sandbox to print its URL.
START_TIMEOUT = 30.0


# -- machine and output ---------------------------------------------------------------------


def machine() -> str:
    """``2 cores, AMD EPYC 7B13, Linux 6.1, Python 3.11.7``."""
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def revision() -> str:
    """The commit measured (``+ local changes`` when the checkout differs from it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "migrate", "transforms"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{head} + local changes" if dirty else head


#: Taken when the benchmark starts: others may commit while it runs.
REVISION = revision()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(len(row))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(numerator: float, denominator: float) -> str:
    """``2.41x``, or ``-`` when undefined."""
    if not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def emit(name: str, title: str, body: str, notes: Sequence[str] = ()) -> str:
    """Print the result block and write it to ``bench/results/<name>.txt``."""
    argv = " ".join(["bench/" + Path(sys.argv[0]).name, *sys.argv[1:]])
    lines = [
        f"{title}",
        f"  machine: {machine()}",
        f"  date:    {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"  code:    {REVISION}",
        f"  command: .venv/bin/python {argv}",
        "",
        body,
    ]
    if notes:
        lines += ["", *notes]
    text = "\n".join(lines) + "\n"
    print(text, end="", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.txt").write_text(text, encoding="utf-8")
    return text


# -- child processes ------------------------------------------------------------------------


def ivr_migrate() -> list[str]:
    """The console script next to this interpreter (what a user runs), else ``-m migrate``."""
    script = Path(sys.executable).parent / "ivr-migrate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "migrate"]


@dataclass
class ChildResult:
    """One finished child process: wall time, CPU seconds and peak resident set."""

    argv: list[str]
    returncode: int
    wall: float
    user: float
    system: float
    #: ru_maxrss of the child or of the largest descendant it waited for (bytes).
    maxrss: int
    #: Highest RSS of the child plus its descendants seen by polling (bytes); 0 if not polled.
    polled_rss: int
    stdout: str
    stderr: str
    #: time.time() when the child was started (to line it up with journal times).
    started_epoch: float = 0.0

    @property
    def cpu(self) -> float:
        return self.user + self.system

    def check(self) -> ChildResult:
        if self.returncode != 0:
            raise SystemExit(
                f"{' '.join(self.argv[:3])} … exited {self.returncode}\n"
                f"--- stdout ---\n{self.stdout[-3000:]}\n--- stderr ---\n{self.stderr[-3000:]}"
            )
        return self


def run_child(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    poll_rss: float | None = None,
    timeout: float = 3600.0,
) -> ChildResult:
    """Run ``argv`` to completion; CPU and ru_maxrss come from ``wait4`` for this child only.

    ``poll_rss`` (seconds) also samples the resident set of the child and its descendants
    (summed). ``ru_maxrss`` is the largest single process of the tree (waited-for ones).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started_epoch = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=err, env=child_env() if env is None else env, cwd=cwd
        )
        peak = [0]
        stop = threading.Event()
        poller = None
        if poll_rss:
            poller = threading.Thread(target=_poll_rss, args=(proc.pid, poll_rss, peak, stop))
            poller.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            wall = time.perf_counter() - started
            killer.cancel()
            stop.set()
            if poller is not None:
                poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildResult(
            argv=list(argv),
            returncode=proc.returncode,
            wall=wall,
            user=usage.ru_utime,
            system=usage.ru_stime,
            maxrss=usage.ru_maxrss * 1024,
            polled_rss=peak[0],
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            started_epoch=started_epoch,
        )


def _poll_rss(pid: int, interval: float, peak: list[int], stop: threading.Event) -> None:
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:  # psutil is in the test extra; without it we rely on ru_maxrss
        return
    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return
    # The process and its descendants (ivr-migrate writes its reports in a child process),
    # summed: they are resident at the same time. Listing children scans /proc, so the list is
    # refreshed about once a second and only known processes are sampled in between.
    family: list[Any] = [proc]
    listed = 0.0
    while not stop.is_set():
        now = time.monotonic()
        if now - listed >= 1.0:
            with contextlib.suppress(psutil.Error):
                family = [proc, *proc.children(recursive=True)]
            listed = now
        total = 0
        for member in family:
            with contextlib.suppress(psutil.Error):
                total += member.memory_info().rss
        peak[0] = max(peak[0], total)
        if not proc.is_running():
            return
        stop.wait(interval)


def self_maxrss() -> int:
    """ru_maxrss of this process (bytes), to show the parent is not what we measure."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_env() -> dict[str, str]:
    """Environment of every child: ours, with bytecode caching on as on a user's machine.

    Some CI and agent shells export PYTHONDONTWRITEBYTECODE=1, which makes every start compile
    the project's modules again; a user's ``ivr-migrate`` does not pay that.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def client_env() -> dict[str, str]:
    """Environment of an ivr-migrate client: the bench key, no other INFOBIP_* setting."""
    env = {k: v for k, v in child_env().items() if not k.startswith("INFOBIP_")}
    env["INFOBIP_API_KEY"] = BENCH_KEY
    return env


# -- the sandbox in its own process ---------------------------------------------------------


def seed_count() -> int:
    return len(list(SEED_DIR.glob("*.json")))


@dataclass
class SandboxProcess:
    """``ivr-migrate sandbox`` serving in a child process; admin calls over HTTP."""

    base_url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path
    options: list[str] = field(default_factory=list)

    def _admin(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            self.base_url + "/_sandbox/" + path,
            method=method,
            headers={"Authorization": f"App {BENCH_KEY}"},
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def log(self) -> list[dict[str, Any]]:
        """The request log (the newest 10,000 entries: the CLI bounds it)."""
        return list(self._admin("GET", "log"))

    def put_counts(self) -> dict[str, int]:
        return dict(self._admin("GET", "put-counts"))

    def reset_log(self) -> None:
        self._admin("POST", "reset-log")

    def reset_limits(self) -> None:
        self._admin("POST", "reset-limits")

    def scenario_ids(self) -> list[str]:
        """Every scenario id, in search order (paged search; counts as reads)."""
        ids: list[str] = []
        page = 1
        while page < 100_000:
            request = urllib.request.Request(
                f"{self.base_url}{API_ROOT}?page={page}&pageSize={PAGE_SIZE}",
                headers={"Authorization": f"App {BENCH_KEY}"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                found = json.loads(response.read())
            ids += [item["id"] for item in found]
            if len(found) < PAGE_SIZE:
                break
            page += 1
        return ids

    def cpu_seconds(self) -> float:
        """CPU the server has used so far (psutil), or nan without psutil."""
        try:
            import psutil

            times = psutil.Process(self.process.pid).cpu_times()
            return float(times.user + times.system)
        except Exception:
            return float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextlib.contextmanager
def sandbox_process(
    *,
    scenarios: int,
    write_rate: str = "none",
    read_rate: str = "none",
    latency_ms: float = 0.0,
    extra: Sequence[str] = (),
) -> Iterator[SandboxProcess]:
    """Serve a fresh sandbox with ``scenarios`` scenarios in all (the bundled seeds plus clones).

    It runs in its own process so that its CPU is not the client's, and is stopped (SIGINT, then
    SIGKILL) when the block ends.
    """
    generate = max(0, scenarios - seed_count())
    options = [
        "--port",
        "0",
        "--key",
        f"bench={BENCH_KEY}",
        "--write-rate",
        write_rate,
        "--read-rate",
        read_rate,
        "--generate",
        str(generate),
        "--latency-ms",
        str(latency_ms),
        *extra,
    ]
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-sandbox-"))
    stderr_path = workdir / "sandbox.stderr"
    env = dict(child_env(), PYTHONUNBUFFERED="1")
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [*ivr_migrate(), "sandbox", *options],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=workdir,
        )
    sandbox = None
    try:
        base_url = _wait_for_url(process, stderr_path)
        sandbox = SandboxProcess(base_url, process, stderr_path, options)
        yield sandbox
    finally:
        if sandbox is not None:
            sandbox.stop()
        elif process.poll() is None:
            process.kill()
            process.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_url(process: subprocess.Popen[bytes], stderr_path: Path) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    seen: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([process.stdout], [], [], left)
        if not ready:
            break
        # the banner comes in whole lines as soon as the server listens
        line = process.stdout.readline().decode("utf-8", "replace")
        if not line:
            break
        seen.append(line)
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return match.group(1)
    process.kill()
    process.wait(timeout=15)
    raise SystemExit(
        "the sandbox did not start:\n"
        + "".join(seen)
        + stderr_path.read_text(encoding="utf-8", errors="replace")
    )


# -- sheets ---------------------------------------------------------------------------------


def write_sheet(path: Path, ids: Sequence[str], rule: str, params: dict[str, str]) -> Path:
    """A CSV rule sheet: one row per id, the same rule and parameters on each."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["scenario_id", "rule", *params])
        for scenario_id in ids:
            writer.writerow([scenario_id, rule, *params.values()])
    return path


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
