"""Base URLs through the command line: one account however it is spelled, refused with the fix
when it has a path, a query or no scheme, and a server that is not the scenario API (a web page,
a redirect to a login page, a 404) gives one line, exit 2, and leaves no run folder.

The servers that are not the API are real HTTP servers on loopback (``http.server`` in a thread).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import Result
from test_cli_engine import FAST, KEY, READS, invoke, one_line_error
from test_engine_support import MIGRATION_SHEET, sandbox, write_sheet

from migrate.client import normalise_base_url
from migrate.errors import ConfigError
from migrate.journal import JOURNAL_FILE, Journal
from migrate.sandbox import Account
from migrate.vocabulary import Meta


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("https://X.Example/", "https://x.example"),
        ("HTTPS://x.example:443", "https://x.example"),
        ("https://x.example:8443/", "https://x.example:8443"),
        ("https://x.example/?", "https://x.example"),
        ("  https://x.example  ", "https://x.example"),
        ("http://LOCALHOST:8080/", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_spellings_of_one_base_url(given: str, normalised: str) -> None:
    assert normalise_base_url(given) == normalised


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("x.example", "--base-url 'x.example' has no scheme: write https://x.example"),
        ("x.example:8443/", "has no scheme: write https://x.example:8443"),
        ("https://x.example/voice/ivr/1", "must not have a path: give the account's base URL, "),
        ("https://x.example/?key=SECRET", "'https://x.example/' must not have a query string"),
        ("https://x.example#SECRET", "must not have a query string or a fragment (not shown"),
        ("https://user:SECRET@x.example", "'https://x.example' must not carry credentials"),
        ("", "--base-url is empty: give your account's base URL"),
    ],
)
def test_unusable_base_urls_say_the_fix_and_never_echo_a_secret(given: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        normalise_base_url(given)
    assert message in str(refused.value)
    assert "SECRET" not in str(refused.value)


def test_plan_and_apply_with_two_spellings_of_the_base_url_are_one_account(
    tmp_path: Path,
) -> None:
    sheet = write_sheet(tmp_path / "s.csv", MIGRATION_SHEET)
    run_dir = tmp_path / "run"
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),)) as running:
        port = running.base_url.rsplit(":", 1)[1]
        planned = invoke("plan", str(sheet), "--out", str(run_dir),
                         "--base-url", f"HTTP://127.0.0.1:{port}/", *READS)  # fmt: skip
        assert planned.exit_code == 0, planned.output
        applied = invoke("apply", str(run_dir), "--yes", "--base-url",
                         f"http://127.0.0.1:{port}", *FAST)  # fmt: skip
        assert applied.exit_code == 0, applied.output
        assert "updated" in applied.stdout
    with Journal.open(run_dir / JOURNAL_FILE, read_only=True) as journal:
        meta = journal.metadata()
    assert meta[Meta.BASE_URL] == meta[Meta.TARGET] == f"http://127.0.0.1:{port}"


# -- servers that are not the scenario API ------------------------------------------------------


class NotTheApi(BaseHTTPRequestHandler):
    """Answers every request the way ``mode`` says: a web page, a login redirect, a 404."""

    mode = "html"

    def do_GET(self) -> None:
        page = b"<!DOCTYPE html><html><body>Welcome to our portal</body></html>"
        if self.mode == "html":
            self.send_response(200)
        elif self.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "/login")
        else:
            self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def web_server(mode: str) -> Iterator[str]:
    handler = type("Handler", (NotTheApi,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


NOT_THE_API = "is not the IVR scenario API (GET /voice/ivr/1/scenarios answered HTTP"
MODES = [
    pytest.param(
        "html",
        "is not the IVR scenario API (GET /voice/ivr/1/scenarios: HTTP 200 "
        "with a body that is not JSON",
        id="web-page",
    ),
    pytest.param("redirect", f"{NOT_THE_API} 302)", id="login-redirect"),
    pytest.param("404", f"{NOT_THE_API} 404)", id="not-found"),
]


def refused(result: Result, url: str, phrase: str) -> None:
    assert result.exit_code == 2, result.output
    line = one_line_error(result)
    assert url in line and phrase in line, line


@pytest.mark.parametrize(("mode", "phrase"), MODES)
@pytest.mark.parametrize("command", [["plan"], ["run", "--yes"]])
def test_a_server_that_is_not_the_api_leaves_no_run_folder(
    tmp_path: Path, mode: str, phrase: str, command: list[str]
) -> None:
    sheet = write_sheet(tmp_path / "s.csv", MIGRATION_SHEET)
    with web_server(mode) as url:
        result = invoke(command[0], str(sheet), *command[1:], "--out", str(tmp_path / "run"),
                        "--base-url", url, *READS)  # fmt: skip
    refused(result, url, phrase)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("mode", "phrase"), MODES)
def test_inventory_of_a_server_that_is_not_the_api(tmp_path: Path, mode: str, phrase: str) -> None:
    with web_server(mode) as url:
        result = invoke("inventory", "--out", str(tmp_path / "inv"), "--base-url", url, *READS)
    refused(result, url, phrase)
    assert not (tmp_path / "inv").exists()
