"""The daily figures stay fresh: marks cannot be lost, readers never rebuild.

The PostgreSQL test races a rebuild against a write with two real connections:
the rebuild has computed its day, then the write commits (marking the day
stale again), then the rebuild clears its marks. Before issue 17 the rebuild
deleted the day's mark whatever happened meanwhile, so the write's mark was
lost and the district kept the old figures until some other change touched
that day.
"""

from __future__ import annotations

import threading

import pytest

from analytics import facts
from analytics.models import CaseDay, StaleDay
from cases.models import Case
from tests.analytics.conftest import T0
from tests.analytics.test_indicators import indicator

WAIT = 20  # seconds: a guard against a hang, never a synchronisation


def _close_case_c() -> None:
    """A write through the ORM: case C closed (its save marks its day stale)."""
    c = Case.objects.get(number="T-C")
    Case.objects.filter(pk=c.pk).update(state="closed", completed_at=c.first_accepted_at)
    Case.objects.get(pk=c.pk).save()


def test_a_reader_never_rebuilds_and_reads_a_stale_period_live(world, sample):
    facts.refresh_stale()
    assert indicator(world.auditor, "overview")["closed"] == 2
    _close_case_c()  # in the test's transaction: its on-commit rebuild never runs
    assert StaleDay.objects.filter(day=T0.date()).exists()
    assert indicator(world.auditor, "overview")["closed"] == 3  # live, not the old figures
    assert StaleDay.objects.filter(day=T0.date()).exists()  # the GET rebuilt nothing
    assert sum(CaseDay.objects.filter(day=T0.date()).values_list("closed", flat=True)) == 2
    assert facts.refresh_stale() == 1
    assert not StaleDay.objects.exists()
    assert indicator(world.auditor, "overview")["closed"] == 3  # now from the daily figures


def test_a_mark_made_again_during_a_rebuild_survives_it(world, sample):
    facts.refresh_stale()
    StaleDay.objects.create(day=T0.date())
    token = StaleDay.objects.get().token
    original = facts.refresh

    def rebuild_then_remark(days, **kwargs):
        original(days, **kwargs)
        facts.mark_stale([T0.date()])  # a write's mark, between computing and clearing

    facts.refresh = rebuild_then_remark
    try:
        facts.refresh_stale()
    finally:
        facts.refresh = original
    assert StaleDay.objects.get().token != token  # cleared only if unchanged: still there


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_committed_during_a_rebuild_keeps_its_day_stale(world, sample, monkeypatch):
    """Two connections: the rebuild computes, a write commits, the rebuild clears its marks."""
    facts.refresh_stale()
    assert not StaleDay.objects.exists()
    StaleDay.objects.create(day=T0.date())  # an earlier change, waiting for its rebuild
    computed, written = threading.Event(), threading.Event()
    original = facts.refresh
    outcomes: dict[str, object] = {}

    def refresh_and_wait(days, **kwargs):
        original(days, **kwargs)
        computed.set()
        assert written.wait(WAIT), "the writer never committed"

    def rebuilder():
        from django.db import connections

        try:
            outcomes["rebuild"] = facts.refresh_stale()
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcomes["rebuild"] = exc
        finally:
            connections.close_all()

    def writer():
        from django.db import connections, transaction

        try:
            assert computed.wait(WAIT), "the rebuild never computed"
            with transaction.atomic():
                _close_case_c()
            outcomes["write"] = "committed"
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcomes["write"] = exc
        finally:
            written.set()
            connections.close_all()

    monkeypatch.setattr(facts, "refresh", refresh_and_wait)
    threads = [threading.Thread(target=rebuilder), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT * 2)
    assert not any(t.is_alive() for t in threads)
    monkeypatch.setattr(facts, "refresh", original)
    assert outcomes["write"] == "committed", outcomes
    assert not isinstance(outcomes["rebuild"], Exception), outcomes
    # The rebuild computed before the write: the day must still be marked stale
    # (and so be read live), never read as fresh with the old figures.
    assert StaleDay.objects.filter(day=T0.date()).exists()
    assert indicator(world.auditor, "overview")["closed"] == 3
    facts.refresh_stale()  # the next run (on commit or by beat) rebuilds it
    assert not StaleDay.objects.exists()
    assert indicator(world.auditor, "overview")["closed"] == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_day_never_wait_for_each_other(world, sample, monkeypatch):
    """A marking transaction still open does not hold up another marking the same day.

    Before, a day had one mark row that every write upserted: the second writer of the
    day waited on the first's row lock until it committed (here: a lock wait of more
    than a second fails the statement). The rebuild is not scheduled on commit, so both
    marks are still there to count whether tasks run eagerly (no ``REDIS_URL``) or not."""
    from django.db import connections, transaction

    monkeypatch.setattr(facts, "schedule_refresh", lambda: None)
    facts.refresh_stale()
    marked, done = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first_writer():
        try:
            with transaction.atomic():
                facts.mark_stale([T0.date()])
                marked.set()
                assert done.wait(WAIT), "the second writer never finished"
            outcomes["first"] = "committed"
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcomes["first"] = exc
            marked.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert marked.wait(WAIT)
        with transaction.atomic():
            with connections["default"].cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            facts.mark_stale([T0.date()])
        outcomes["second"] = "committed"
    except Exception as exc:  # noqa: BLE001 - asserted below
        outcomes["second"] = exc
    finally:
        done.set()
        thread.join(WAIT)
    assert outcomes == {"first": "committed", "second": "committed"}
    assert StaleDay.objects.filter(day=T0.date()).count() == 2  # one mark each
    assert facts.refresh_stale() == 2
    assert not StaleDay.objects.exists()


def test_changes_with_a_broker_share_one_queued_rebuild(world, settings, monkeypatch):
    """With a broker, the first change queues the rebuild a few seconds ahead, the
    changes meanwhile queue nothing more, and once that run has started the next change
    queues the next one."""
    from django.core.cache import cache

    from analytics.tasks import refresh_stale_days

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.JINSHAO_FIGURES_REBUILD_DELAY_SECONDS = 5
    queued: list[dict] = []
    monkeypatch.setattr(refresh_stale_days, "apply_async", lambda **kw: queued.append(kw))
    cache.delete(facts.REFRESH_QUEUED_KEY)
    for _ in range(3):
        facts.schedule_refresh()
    run = {"kwargs": {"queued": True}, "countdown": 5}
    assert queued == [run]
    refresh_stale_days()  # beat's run: the queued one still waits, nothing more queued
    facts.schedule_refresh()
    assert queued == [run]
    refresh_stale_days(queued=True)  # the queued run starts
    facts.schedule_refresh()
    assert queued == [run, run]


def test_a_rebuild_that_could_not_be_queued_lets_the_next_change_try(world, settings, monkeypatch):
    from django.core.cache import cache

    from analytics.tasks import refresh_stale_days

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.JINSHAO_FIGURES_REBUILD_DELAY_SECONDS = 5
    attempts: list[dict] = []

    def broker_down(**kw):
        attempts.append(kw)
        raise ConnectionError("broker down")

    monkeypatch.setattr(refresh_stale_days, "apply_async", broker_down)
    cache.delete(facts.REFRESH_QUEUED_KEY)
    facts.schedule_refresh()
    facts.schedule_refresh()
    assert len(attempts) == 2
