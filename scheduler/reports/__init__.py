"""Airtime reports: planned versus aired over any period, roll-ups, and exports (XLSX, CSV, PDF, JSON).

Entry points: `build_report` (figures), `rollup_day` / `rollup_pending` (the nightly roll-ups),
`scheduler.reports.exports.write_report` (files).
"""

from scheduler.reports.airtime import BY_CHOICES, AirtimeReport, ReportRequest, Row, build_report
from scheduler.reports.figures import Figures
from scheduler.reports.periods import Period, named_period, parse_local_date
from scheduler.reports.rollup import rollup_day, rollup_days, rollup_pending
from scheduler.reports.scope import Scope

__all__ = [
    "BY_CHOICES",
    "AirtimeReport",
    "Figures",
    "Period",
    "ReportRequest",
    "Row",
    "Scope",
    "build_report",
    "named_period",
    "parse_local_date",
    "rollup_day",
    "rollup_days",
    "rollup_pending",
]
