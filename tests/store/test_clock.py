"""Working days and statutory due dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from triage.clock import (BANK_HOLIDAYS, COVERED_YEARS, add_months, add_working_days, complaint_due_dates,
                          is_working_day, working_days_between)


def easter(year: int) -> date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def mondays(year: int, month: int) -> list[date]:
    day = date(year, month, 1)
    out = []
    while day.month == month:
        if day.weekday() == 0:
            out.append(day)
        day += timedelta(days=1)
    return out


def substitute(day: date, taken: set[date]) -> date:
    while day.weekday() >= 5 or day in taken:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize("year", list(COVERED_YEARS))
def test_bank_holiday_table_follows_the_rules(year):
    expected: set[date] = set()
    expected.add(substitute(date(year, 1, 1), expected))
    expected |= {easter(year) - timedelta(days=2), easter(year) + timedelta(days=1)}
    expected |= {mondays(year, 5)[0], mondays(year, 5)[-1], mondays(year, 8)[-1]}
    christmas = substitute(date(year, 12, 25), expected)
    expected.add(christmas)
    expected.add(substitute(date(year, 12, 26), expected))
    assert {d for d in BANK_HOLIDAYS if d.year == year} == expected


def test_working_days_skip_weekends_and_holidays():
    assert not is_working_day(date(2026, 4, 3))  # Good Friday
    assert not is_working_day(date(2026, 4, 4))  # Saturday
    assert add_working_days(date(2026, 3, 2), 3) == date(2026, 3, 5)  # Monday -> Thursday
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)  # over Easter
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # received Saturday
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 9)) == 3


def test_received_late_evening_counts_in_england():
    # 23:30 UTC on Friday 31 July 2026 is already Saturday in London (BST)
    late = datetime(2026, 7, 31, 23, 30, tzinfo=timezone.utc)
    assert add_working_days(late, 1) == date(2026, 8, 3)


def test_complaint_due_dates():
    due = complaint_due_dates(date(2026, 8, 28), response_target_days=20)
    assert due.acknowledgement_due == date(2026, 9, 3)  # 31 August is a bank holiday
    assert due.response_due == date(2026, 9, 28)
    assert due.final_limit == date(2027, 2, 28)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
