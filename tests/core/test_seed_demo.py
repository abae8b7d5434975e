"""``seed_demo`` builds a consistent model district, once."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from cases import services
from cases.choices import CaseState, InvitationState
from cases.models import Case, CaseEvent, CaseNumberSequence, Invitation
from core.demo_data import TOWNS
from core.management.commands.seed_demo import DEMO_PASSWORD
from departments.models import Department, StaffMembership
from grids.models import Area, Workstation
from ratings.models import Rating
from templates.models import CaseTemplate

pytestmark = pytest.mark.django_db


def counts():
    return {
        m.__name__: m.objects.count()
        for m in (Area, Department, User, Case, Invitation, CaseEvent, Rating)
    }


def test_seed_demo_builds_a_consistent_district_once(settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the demo runs with it on
    out = io.StringIO()
    call_command("seed_demo", cases=300, staff=150, stdout=out)

    # The place, by its real names and sizes.
    assert set(Area.objects.filter(level=2).values_list("name", flat=True)) == {t[1] for t in TOWNS}
    assert len(TOWNS) == 12
    assert Area.objects.filter(level=3).count() == 56
    assert Area.objects.filter(level=4).count() == 280
    assert Workstation.objects.count() == 56
    for area in Area.objects.select_related("parent"):
        assert area.path == area.build_path(), area.code  # the tree is whole
    assert Department.objects.count() == 93
    assert StaffMembership.objects.filter(title="负责人").count() == 93
    assert StaffMembership.objects.exclude(title="负责人").count() == 150

    # Every state present; the numbers continue in the sequence.
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    assert Case.objects.filter(source="village").count() == 300
    latest = Case.objects.order_by("-number").first()
    seq = CaseNumberSequence.objects.get(year=int(latest.number.split("-")[1]))
    assert seq.last == int(latest.number.rsplit("-", 1)[1])

    # Invariants the services keep.
    started = Case.objects.exclude(first_accepted_at=None)
    assert not started.exclude(invitations__state=InvitationState.ACCEPTED).exists()
    assert not Case.objects.filter(state=CaseState.IN_PROGRESS, first_accepted_at=None).exists()
    for field_a, field_b in (
        ("created_at", "submitted_at"),
        ("submitted_at", "dispatched_at"),
        ("dispatched_at", "first_accepted_at"),
        ("first_accepted_at", "completed_at"),
        ("completed_at", "closed_at"),
    ):
        assert not Case.objects.filter(**{f"{field_b}__lt": F(field_a)}).exists(), (
            field_a,
            field_b,
        )
    closed = Case.objects.filter(state=CaseState.CLOSED).annotate(
        participants=Count(
            "invitations__department", filter=Q(invitations__state="accepted"), distinct=True
        ),
        rated=Count("ratings", distinct=True),
    )
    assert closed.exists() and not closed.exclude(participants=F("rated")).exists()
    assert not Case.objects.exclude(state=CaseState.CLOSED).filter(ratings__isnull=False).exists()

    # Every printed login works and holds its role.
    text = out.getvalue()
    for username, role in (
        ("cun001", Role.VILLAGE_OFFICIAL),
        ("zhihui01", Role.COMMANDER),
        ("wangge01", Role.GRID_LEADER),
        ("s0001", Role.STAFF),
        ("juzhang01", Role.DEPARTMENT_HEAD),
        ("lingdao01", Role.LEADER),
        ("kaohe01", Role.AUDITOR),
        ("xitong", Role.SYSADMIN),
        ("anquan", Role.SECADMIN),
        ("shenji", Role.AUDITADMIN),
    ):
        assert username in text
        user = authenticate(request=_login_request(), username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert RoleAssignment.objects.filter(user=user, role=role).exists(), username
    assert authenticate(
        request=_login_request(), username="admin", password=DEMO_PASSWORD
    ).is_superuser

    # The city platform and the hotline are set up: a delivery in their codes becomes a case.
    from integrations.models import ExternalSystem
    from integrations.services import parse_platform_case, take_in

    platform = ExternalSystem.objects.get(code="ywtg")
    template = CaseTemplate.objects.filter(is_active=True).first()
    community = Area.objects.filter(level=4).first()
    delivery = {"external_id": "WG-1", "title": "占道经营", "area_code": community.code}
    delivery["category_code"] = f"WG-{template.code}"
    taken = take_in(platform, parse_platform_case(platform, delivery))
    assert taken.outcome == "created" and taken.case.community == community
    assert ExternalSystem.objects.get(code="rx12345").source == "hotline_12345"

    # A second run changes nothing.
    before = counts()
    call_command("seed_demo", cases=300, staff=150, stdout=io.StringIO())
    assert counts() == before

    # The seeded data obeys the real state machine.
    case = Case.objects.filter(state=CaseState.PENDING_REVIEW).first()
    commander = Workstation.objects.get(grid=case.community.parent).commander
    services.approve_case(case, actor=commander)
    assert case.state == CaseState.DISPATCHED


def test_seed_demo_refuses_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", cases=0, stdout=io.StringIO())
    assert not Area.objects.exists()


def _login_request():
    """A log-in needs its request: the lock-out counts failures per address."""
    from django.test import RequestFactory

    return RequestFactory().post("/admin/login/")


def test_seed_demo_grows_an_existing_demo(settings):
    """``--cases N`` on top of a demo (the documented way to grow it) adds cases; the newest
    cases' inboxes and rooms, filled again, keep one system line per event (issue 16: the
    second fill crashed on ``chat_message_event_id_key``)."""
    from django.db.models import Count

    from chat.models import Message

    settings.DEBUG = True
    call_command("seed_demo", cases=40, staff=150, stdout=io.StringIO())
    call_command("seed_demo", cases=80, staff=150, stdout=io.StringIO())
    assert Case.objects.filter(source="village").count() == 80
    assert (
        not Message.objects.exclude(event=None)
        .values("event")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    talk = Message.objects.filter(kind="text").values("case", "text").annotate(n=Count("id"))
    assert not talk.filter(n__gt=1)
