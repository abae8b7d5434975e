"""Fields a person may not set are ignored on every write endpoint (checked after a reload)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Invitation
from chat.models import Message
from notifications.models import Notification
from tests.api.client import as_user

pytestmark = pytest.mark.django_db


def test_an_invitation_cannot_be_aimed_or_answered_by_its_body(world, case_in):
    case = case_in("dispatched", invite=("staff_a",))
    response = as_user(world.commander).post(
        reverse("api:case-invitations", args=[case.pk]),
        {
            "department": world.dept_b.pk,
            "person": world.staff_b.pk,
            "state": "accepted",
            "case": 999999,
            "invited_by": world.stranger.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    invitation = Invitation.objects.get(pk=response.data["id"])
    invitation.refresh_from_db()
    assert invitation.state == "pending" and invitation.case_id == case.pk
    assert invitation.invited_by == world.commander


def test_accepting_takes_no_other_fields(world, case_in):
    case = case_in("dispatched", invite=("staff_a",))
    invitation = case.invitations.get()
    as_user(world.staff_a).post(
        reverse("api:invitation-accept", args=[invitation.pk]),
        {"person": world.staff_a2.pk, "department": world.dept_b.pk, "state": "declined"},
        format="json",
    )
    invitation.refresh_from_db()
    assert (invitation.state, invitation.person, invitation.department) == (
        "accepted",
        world.staff_a,
        world.dept_a,
    )


def test_a_message_is_always_the_senders_own(world, case_in):
    case = case_in("in_progress", invite=("staff_a",))
    response = as_user(world.official).post(
        reverse("api:case-messages", args=[case.pk]),
        {"text": "我发的", "sender": world.commander.pk, "kind": "system", "case": 1},
        format="json",
    )
    # "kind" names an upload kind; "system" is none, so the request is refused whole.
    assert response.status_code == 400
    response = as_user(world.official).post(
        reverse("api:case-messages", args=[case.pk]),
        {"text": "我发的", "sender": world.commander.pk, "created_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    message = Message.objects.get(pk=response.data["id"])
    message.refresh_from_db()
    assert message.sender == world.official and message.kind == "text"
    assert message.case == case and message.created_at.year > 2000


def test_marking_read_marks_only_ones_own(world, case_in):
    case_in("dispatched")
    theirs = Notification.objects.filter(recipient=world.staff_a).get()
    as_user(world.staff_a).post(
        reverse("api:notification-read", args=[theirs.pk]),
        {"recipient": world.staff_b.pk, "read_at": None, "kind": "overdue"},
        format="json",
    )
    theirs.refresh_from_db()
    assert theirs.recipient == world.staff_a and theirs.kind == "invited"
    assert theirs.read_at is not None
