"""Run reports (DESIGN §8): results/changes/failures CSV, report.xlsx and report.html.

Importing this package does not import pandas (``status`` uses :func:`summarise` and must stay
fast); :func:`write_reports` imports it when called.

Usage by the engine::

    from migrate.reports import write_reports, report_data_from_journal
    write_reports(run_folder, report_data_from_journal(journal), dry_run=True)
"""

from migrate.reports.data import (
    ReportAccount,
    ReportAttempt,
    ReportChange,
    ReportData,
    ReportRow,
    SheetStep,
    state_label,
)
from migrate.reports.journal_adapter import (
    is_dry_run,
    report_data_from_journal,
    report_data_from_run,
    write_run_reports,
)
from migrate.reports.summary import RunSummary, summarise
from migrate.reports.write import ReportFiles, write_reports

__all__ = [
    "ReportAccount",
    "ReportAttempt",
    "ReportChange",
    "ReportData",
    "ReportFiles",
    "ReportRow",
    "RunSummary",
    "SheetStep",
    "is_dry_run",
    "report_data_from_journal",
    "report_data_from_run",
    "state_label",
    "summarise",
    "write_reports",
    "write_run_reports",
]
