"""Working time (``JINSHAO_WORKING_HOURS``, ``JINSHAO_WORKING_CALENDAR``): 24:00 is the end
of the day, the setting is checked at start-up, and the escalation graces count working
time like the deadlines they follow."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from cases import services
from cases.choices import StepKind
from cases.deadlines import due_after
from cases.models import Case
from core.dates import parse_working_hours
from tests.core.test_settings import fresh_keys, start

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# 2026-12-04 is a Friday, 12-07 the Monday after.
FRIDAY_17 = local(2026, 12, 4, 17, 0)
MONDAY = local(2026, 12, 7)


@pytest.fixture
def calendar(settings):
    settings.JINSHAO_WORKING_CALENDAR = True
    return settings


class TestTheSetting:
    def test_24_00_is_the_end_of_the_day(self):
        assert parse_working_hours("00:00-24:00") == (timedelta(0), timedelta(hours=24))
        assert parse_working_hours(" 08:30 - 17:30 ") == (
            timedelta(hours=8, minutes=30),
            timedelta(hours=17, minutes=30),
        )

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "08:30",
            "08:30-",
            "8.30-17.30",
            "17:30-08:30",
            "09:00-09:00",
            "00:00-24:01",
            "25:00-26:00",
            "08:60-17:00",
            "08:30-17:30-18:00",
            "24:00-24:00",
            "nine-five",
        ],
    )
    def test_a_malformed_value_is_refused(self, value):
        with pytest.raises(ImproperlyConfigured, match="JINSHAO_WORKING_HOURS"):
            parse_working_hours(value)

    def test_start_up_refuses_a_malformed_value(self):
        done = start("print('started')", JINSHAO_WORKING_HOURS="17:30-08:30", **fresh_keys())
        assert done.returncode != 0
        assert "ImproperlyConfigured" in done.stderr and "JINSHAO_WORKING_HOURS" in done.stderr
        assert "started" not in done.stdout
        done = start(
            "from django.conf import settings; print(settings.JINSHAO_WORKING_HOURS)",
            JINSHAO_WORKING_HOURS="00:00-24:00",
            **fresh_keys(),
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "00:00-24:00"


class TestWholeDays:
    def test_a_case_approved_with_00_00_24_00_has_exact_deadlines(
        self, world, case_in, calendar, monkeypatch
    ):
        calendar.JINSHAO_WORKING_HOURS = "00:00-24:00"
        approved = local(2026, 12, 2, 23, 50)  # a Wednesday
        case = case_in("pending_review")
        monkeypatch.setattr(timezone, "now", lambda: approved)
        services.approve_case(case, actor=world.commander)
        case.refresh_from_db()
        assert case.state == "dispatched"
        # 30 minutes of working time run over midnight into Thursday.
        assert case.response_deadline == local(2026, 12, 3, 0, 20)
        # 72 hours: three working days (Thu, Fri, Mon), the same time of day.
        assert case.deadline == local(2026, 12, 7, 23, 50)

    def test_the_last_minute_of_the_day_counts(self, calendar):
        calendar.JINSHAO_WORKING_HOURS = "00:00-24:00"
        assert due_after(local(2026, 12, 2, 23, 59), 2 * MINUTE) == local(2026, 12, 3, 0, 1)
        assert due_after(local(2026, 12, 2, 23, 59), MINUTE) == local(2026, 12, 3, 0, 0)
        # Friday 23:59 + 2 minutes: one on Friday, one after Monday's midnight.
        assert due_after(local(2026, 12, 4, 23, 59), 2 * MINUTE) == MONDAY + MINUTE

    def test_a_working_day_closes_at_its_closing_time(self, calendar):
        calendar.JINSHAO_WORKING_HOURS = "08:30-17:30"
        assert due_after(local(2026, 12, 2, 17, 29), 2 * MINUTE) == local(2026, 12, 3, 8, 31)


class TestGraces:
    """A Friday 17:00 deadline with a 1-hour escalation grace, working hours 09:00-17:00:
    the hour is Monday 09:00-10:00, not Friday evening into Saturday."""

    @pytest.fixture
    def late_friday(self, world, case_in, calendar):
        calendar.JINSHAO_WORKING_HOURS = "09:00-17:00"
        calendar.JINSHAO_OVERDUE_ESCALATE_HOURS = 1
        case = case_in("in_progress")
        Case.objects.filter(pk=case.pk).update(deadline=FRIDAY_17)
        return case

    def test_overdue_at_the_deadline_escalated_after_a_working_hour(self, late_friday):
        assert services.sweep_deadlines(now=FRIDAY_17 - MINUTE).total == 0
        assert services.sweep_deadlines(now=FRIDAY_17).taken == {StepKind.OVERDUE: 1}
        saturday = local(2026, 12, 5, 17, 1)
        assert services.sweep_deadlines(now=saturday).total == 0
        assert services.sweep_deadlines(now=MONDAY + 9 * HOUR + 59 * MINUTE).total == 0
        report = services.sweep_deadlines(now=MONDAY + 10 * HOUR)
        assert report.taken == {StepKind.OVERDUE_ESCALATION: 1}

    def test_a_missed_response_escalates_in_working_minutes(self, world, case_in, calendar):
        calendar.JINSHAO_WORKING_HOURS = "09:00-17:00"
        calendar.JINSHAO_RESPONSE_ESCALATE_MINUTES = 30
        case = case_in("dispatched")
        due = local(2026, 12, 4, 16, 50)
        Case.objects.filter(pk=case.pk).update(response_deadline=due, deadline=due + 30 * 24 * HOUR)
        assert services.sweep_deadlines(now=due).taken == {StepKind.RESPONSE_REMINDER: 1}
        # 10 minutes on Friday, 20 on Monday morning.
        assert services.sweep_deadlines(now=local(2026, 12, 5, 10, 0)).total == 0
        assert services.sweep_deadlines(now=MONDAY + 9 * HOUR + 19 * MINUTE).total == 0
        report = services.sweep_deadlines(now=MONDAY + 9 * HOUR + 20 * MINUTE)
        assert report.taken == {StepKind.RESPONSE_ESCALATION: 1}

    def test_without_the_calendar_a_grace_is_clock_time(self, world, case_in, settings):
        settings.JINSHAO_OVERDUE_ESCALATE_HOURS = 1
        case = case_in("in_progress")
        Case.objects.filter(pk=case.pk).update(deadline=FRIDAY_17)
        services.sweep_deadlines(now=FRIDAY_17)
        assert services.sweep_deadlines(now=FRIDAY_17 + 59 * MINUTE).total == 0
        report = services.sweep_deadlines(now=FRIDAY_17 + HOUR)
        assert report.taken == {StepKind.OVERDUE_ESCALATION: 1}
