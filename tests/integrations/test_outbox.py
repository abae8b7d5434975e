"""Status changes of an imported case go back to its system: written to an outbox in the
step's own transaction, sent signed, retried with backoff until acknowledged, in order."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases import services as case_services
from cases.models import Case
from integrations import services
from integrations.models import ExternalCase, OutboundMessage
from tests.integrations.conftest import SECRET, platform_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(world, platform, receiver):
    platform.callback_url = receiver.url
    platform.save()
    request = services.parse_platform_case(platform, platform_case())
    case = services.take_in(platform, request).case
    return case


def events_sent(receiver) -> list[str]:
    return [r["json"]["event"] for r in receiver.acknowledged]


def test_each_state_change_is_queued_with_the_step(world, imported):
    assert [m.payload["event"] for m in OutboundMessage.objects.order_by("id")] == ["created"]
    case_services.submit_case(imported, actor=world.official)
    messages = list(OutboundMessage.objects.order_by("id"))
    assert [m.payload["to_state"] for m in messages] == ["draft", "pending_review"]
    assert messages[1].payload["external_id"] == "WG2026-000123"
    assert messages[1].payload["case"]["number"] == imported.number


def test_a_step_that_rolls_back_queues_nothing(world, imported):
    with pytest.raises(RuntimeError), transaction.atomic():
        case_services.submit_case(imported, actor=world.official)
        assert OutboundMessage.objects.count() == 2  # the step did write its message
        raise RuntimeError("the step fails after the event is written")
    assert OutboundMessage.objects.count() == 1  # only "created"


def _live_through(world, case) -> None:
    """Submit, approve, accept and complete ``case`` through the services."""
    case_services.submit_case(case, actor=world.official)
    case_services.approve_case(case, actor=world.commander)
    for invitation in case.invitations.all():
        case_services.accept_invitation(invitation, actor=invitation.person)
    case.refresh_from_db()
    case_services.complete_case(case, actor=world.official)


@pytest.mark.parametrize(
    ("source", "queued"),
    [
        ("village", []),
        # The same setup for a platform case does send: only the source stops the village one.
        ("grid_platform", ["pending_review", "dispatched", "in_progress", "pending_rating"]),
    ],
)
def test_a_village_case_queues_nothing(world, case_in, platform, receiver, source, queued):
    """A village case in a community the platform maps, with a callback URL and even a
    platform id linked to it, never goes back to the platform."""
    platform.callback_url = receiver.url
    platform.save()
    case = case_in("draft")
    Case.objects.filter(pk=case.pk).update(source=source)
    case.refresh_from_db()
    ExternalCase.objects.create(system=platform, external_id="WG2026-000999", case=case)
    _live_through(world, case)
    assert Case.objects.get(pk=case.pk).state == "pending_rating"
    sent = OutboundMessage.objects.filter(case=case).order_by("id")
    assert [m.payload["to_state"] for m in sent] == queued


def test_receiver_down_then_up_is_delivered_once_signed(world, imported, receiver):
    message = OutboundMessage.objects.get()
    now = timezone.now()
    # Down: nobody listens on the port.
    assert services.deliver(message.pk, now=now) is False
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_status) == ("pending", 1, None)
    assert message.last_error and message.next_attempt_at == now + timedelta(seconds=30)
    assert services.deliver_due(now=now + timedelta(seconds=10)) == 0  # not due yet

    receiver.up()
    receiver.status = 503  # up, but failing
    assert services.deliver_due(now=now + timedelta(seconds=31)) == 0
    message.refresh_from_db()
    assert (message.attempts, message.last_status) == (2, 503)
    assert message.next_attempt_at == now + timedelta(seconds=31) + timedelta(seconds=60)

    receiver.status = 200
    assert services.deliver_due(now=now + timedelta(minutes=5)) == 1
    assert services.deliver_due(now=now + timedelta(hours=1)) == 0  # nothing left to send
    message.refresh_from_db()
    assert message.state == "delivered" and message.attempts == 3
    assert list(message.attempt_log.values_list("status_code", flat=True)) == [None, 503, 200]
    assert len(receiver.acknowledged) == 1
    got = receiver.acknowledged[0]
    assert got["signature"] == services.sign(SECRET, got["timestamp"], got["body"])
    assert got["key"] == f"jinshao-{message.pk}"
    assert json.loads(got["body"])["external_id"] == "WG2026-000123"


class ProcessDied(BaseException):  # noqa: N818 (not an error: the process is gone)
    """Like SystemExit/SIGKILL: nothing after it runs, no ``except Exception`` catches it."""


def test_a_crash_between_commit_and_send_still_delivers(
    world, imported, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The step commits, the in-process send is attempted and the process dies before
    anything is sent: the periodic flush delivers each status exactly once."""
    from integrations import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker is configured: send at once
    attempted: list[int] = []

    def die(message_id):
        attempted.append(message_id)
        raise ProcessDied

    monkeypatch.setattr(tasks.deliver_outbound, "delay", die)
    receiver.up()
    with pytest.raises(ProcessDied), django_capture_on_commit_callbacks(execute=True):
        case_services.submit_case(imported, actor=world.official)
    submitted = OutboundMessage.objects.get(payload__to_state="pending_review")
    assert attempted == [submitted.pk]  # the send after commit was really attempted
    assert Case.objects.get(pk=imported.pk).state == "pending_review"  # the step committed
    assert receiver.received == [] and submitted.state == "pending"
    assert services.deliver_due() == 2
    assert services.deliver_due(now=timezone.now() + timedelta(hours=1)) == 0
    assert events_sent(receiver) == ["created", "submitted"]
    assert len(receiver.received) == 2  # each once


def test_statuses_go_out_in_order_per_case(world, imported, receiver):
    case_services.submit_case(imported, actor=world.official)
    first, second = OutboundMessage.objects.order_by("id")
    receiver.up()
    # The later status may not overtake the earlier one, even when asked directly.
    assert services.deliver(second.pk) is False
    assert receiver.received == []
    assert services.deliver(first.pk) is True
    assert services.deliver(second.pk) is True
    assert events_sent(receiver) == ["created", "submitted"]


def test_a_leased_message_is_not_sent_twice(world, imported, receiver):
    receiver.up()
    message = OutboundMessage.objects.get()
    now = timezone.now()
    OutboundMessage.objects.filter(pk=message.pk).update(leased_until=now + timedelta(seconds=30))
    assert services.deliver(message.pk, now=now) is False
    assert receiver.received == []
    # Once the lease has run out (the worker holding it died), it is sent, once.
    assert services.deliver_due(now=now + timedelta(seconds=31)) == 1
    assert services.deliver_due(now=now + timedelta(minutes=5)) == 0
    assert len(receiver.received) == 1


def test_backoff_grows_and_is_capped(settings):
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 10)] == [
        30,
        60,
        120,
        240,
        480,
        600,
        600,
    ]


def test_the_whole_life_goes_back(world, imported, receiver):
    receiver.up()
    case_services.submit_case(imported, actor=world.official)
    case_services.invite_person(
        imported, actor=world.commander, department=world.dept_a, person=world.staff_a
    )
    case_services.approve_case(imported, actor=world.commander)
    case_services.accept_invitation(imported.invitations.get(), actor=world.staff_a)
    imported.refresh_from_db()
    case_services.complete_case(imported, actor=world.official)
    from ratings.services import rate_department

    rate_department(
        imported,
        actor=world.official,
        department=world.dept_a,
        scores={"result": 90, "conduct": 95},
    )
    assert Case.objects.get(pk=imported.pk).state == "closed"
    services.deliver_due()
    assert [r["json"]["to_state"] for r in receiver.acknowledged] == [
        "draft",
        "pending_review",
        "dispatched",
        "in_progress",
        "pending_rating",
        "closed",
    ]


def test_a_closure_sent_while_the_platform_is_down_for_an_hour_arrives_once(
    world, imported, receiver
):
    """The case is closed while nobody listens; the outbox flush runs every 30 s and the
    platform is back after an hour: the closure arrives once, after the earlier statuses."""
    case_services.invite_person(
        imported, actor=world.commander, department=world.dept_a, person=world.staff_a
    )
    _live_through(world, imported)
    from ratings.services import rate_department

    rate_department(
        imported,
        actor=world.official,
        department=world.dept_a,
        scores={"result": 90, "conduct": 95},
    )
    assert Case.objects.get(pk=imported.pk).state == "closed"
    closure = OutboundMessage.objects.get(payload__to_state="closed")
    start = timezone.now()
    for step in range(120):  # one hour of flushes, nobody listening
        assert services.deliver_due(now=start + timedelta(seconds=30 * step)) == 0
    first = OutboundMessage.objects.order_by("id").first()
    assert first is not None
    assert first.state == "pending" and 8 <= first.attempts <= 12  # backed off, not hammered
    closure.refresh_from_db()
    assert closure.state == "pending" and closure.attempts == 0  # waits behind the earlier ones
    receiver.up()
    back = start + timedelta(hours=1)
    delivered_at = None
    for step in range(40):  # flushes for 20 minutes after the platform is back
        now = back + timedelta(seconds=30 * step)
        if services.deliver_due(now=now) and delivered_at is None:
            delivered_at = now
    assert delivered_at is not None and delivered_at - back <= timedelta(minutes=10)
    states = [r["json"]["to_state"] for r in receiver.received]
    assert states == [
        "draft",
        "pending_review",
        "dispatched",
        "in_progress",
        "pending_rating",
        "closed",
    ]
    assert [r["json"]["to_state"] for r in receiver.acknowledged].count("closed") == 1
    closure.refresh_from_db()
    assert closure.state == "delivered" and closure.attempts == 1
