"""The statutory clock: working days (no weekends, no England & Wales bank holidays) and case due dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

#: England & Wales bank holidays (gov.uk), including substitute days when a holiday falls at a weekend.
BANK_HOLIDAYS: frozenset[date] = frozenset(date.fromisoformat(d) for d in (
    # 2025
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26",
    # 2026 (Boxing Day is a Saturday: substitute Monday 28 December)
    "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
    # 2027 (Christmas on Saturday, Boxing Day on Sunday: substitutes 27 and 28 December)
    "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
    # 2028 (New Year's Day is a Saturday: substitute Monday 3 January)
    "2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26",
))
COVERED_YEARS = range(2025, 2029)

ACKNOWLEDGEMENT_WORKING_DAYS = 3
RESPONSE_TARGET_WORKING_DAYS = 20
FINAL_LIMIT_MONTHS = 6


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday."""
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def local_day(moment: datetime | date) -> date:
    """The calendar day in England of a moment (naive datetimes are taken as UTC)."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return moment.astimezone(LONDON).date()
    return moment


def add_working_days(start: datetime | date, days: int) -> date:
    """The day ``days`` working days after ``start``; a message received on a weekend or holiday counts
    from the next working day, and the day of receipt itself is day zero."""
    day = local_day(start)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


@dataclass(frozen=True)
class DueDates:
    """When a complaint must be acknowledged and answered."""

    acknowledgement_due: date
    response_due: date
    final_limit: date


def complaint_due_dates(received_at: datetime | date, response_target_days: int = RESPONSE_TARGET_WORKING_DAYS,
                        acknowledgement_days: int = ACKNOWLEDGEMENT_WORKING_DAYS) -> DueDates:
    """Acknowledgement (3 working days), the council's response target and the six-month limit."""
    received = local_day(received_at)
    return DueDates(
        acknowledgement_due=add_working_days(received, acknowledgement_days),
        response_due=add_working_days(received, response_target_days),
        final_limit=add_months(received, FINAL_LIMIT_MONTHS),
    )
