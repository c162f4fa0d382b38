"""Date arithmetic for validity periods (calendar months, clamped to the month's last day)."""

from __future__ import annotations

import calendar
from datetime import datetime


def add_months(moment: datetime, months: int) -> datetime:
    """Return ``moment`` plus ``months`` calendar months (Jan 31 + 1 month = Feb 28/29)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
