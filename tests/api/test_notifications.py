"""The inbox: who is told what as a case moves, unread counts, marking read."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from cases import services
from notifications.models import Notification
from tests.api.client import as_user, login

pytestmark = pytest.mark.django_db

INBOX = "api:notification-list"


def inbox(user, **params) -> list[dict]:
    response = as_user(user).get(reverse(INBOX), params)
    assert response.status_code == 200, response.content
    return response.data["results"]


def kinds(user) -> list[str]:
    return sorted(n["kind"] for n in inbox(user))


def test_each_step_tells_the_people_it_concerns(world, case_in):
    case = case_in("draft")
    assert Notification.objects.count() == 0  # drafting tells nobody, not even the invited

    services.submit_case(case, actor=world.official)
    assert kinds(world.commander) == ["to_review"]
    services.approve_case(case, actor=world.commander)
    assert kinds(world.official) == ["dispatched"]
    assert kinds(world.staff_a) == ["invited"] and kinds(world.staff_b) == ["invited"]

    a, b = case.invitations.order_by("person__username")
    services.accept_invitation(a, actor=world.staff_a)
    services.decline_invitation(b, actor=world.staff_b, reason="不属于本部门职责")
    case.refresh_from_db()
    assert kinds(world.official) == ["accepted", "declined", "dispatched"]
    services.complete_case(case, actor=world.official)
    assert kinds(world.staff_a) == ["completed", "invited"]
    assert kinds(world.staff_b) == ["invited"]  # declined: not told of the completion

    declined = inbox(world.official, kind="declined")[0]
    assert case.number in declined["message"] and "不属于本部门职责" in declined["message"]
    assert declined["case"] == {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "state": "pending_rating",
    }
    for bystander in (world.head_a, world.leader, world.auditor, world.other_official):
        assert inbox(bystander) == []


def test_nobody_is_told_of_their_own_action(world, case_in):
    case = case_in("dispatched", invite=("staff_b",))
    services.invite_person(
        case, actor=world.commander, department=world.dept_a, person=world.staff_a
    )
    assert kinds(world.staff_a) == ["invited"]
    assert [n["kind"] for n in inbox(world.commander)] == ["to_review"]  # not "invited"


def test_a_rolled_back_step_leaves_no_notification(world, case_in):
    case = case_in("dispatched", invite=("staff_b",))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.invite_person(
            case, actor=world.commander, department=world.dept_a, person=world.staff_a
        )
        # The step did tell staff_a (inside its transaction) before the request failed.
        assert Notification.objects.filter(recipient=world.staff_a).exists()
        raise RuntimeError("the request failed after the invitation")
    assert not Notification.objects.filter(recipient=world.staff_a).exists()


def test_unread_count_and_marking_read(world, case_in):
    case_in("dispatched")
    case_in("dispatched")
    client = login(world.staff_a)
    assert client.get(reverse("api:me")).data["waiting"]["notifications"] == 2
    first, second = client.get(reverse(INBOX)).data["results"]
    read = client.post(reverse("api:notification-read", args=[first["id"]]))
    assert read.status_code == 200 and read.data["is_read"] and read.data["read_at"]
    assert client.get(reverse("api:me")).data["waiting"]["notifications"] == 1
    assert [n["id"] for n in client.get(reverse(INBOX), {"unread": "true"}).data["results"]] == [
        second["id"]
    ]
    assert client.post(reverse("api:notification-read-all")).data == {"marked": 1}
    assert client.post(reverse("api:notification-read-all")).data == {"marked": 0}
    assert client.get(reverse("api:me")).data["waiting"]["notifications"] == 0


def test_another_persons_notification_is_a_404(world, case_in):
    case_in("dispatched")
    theirs = Notification.objects.filter(recipient=world.staff_a).get()
    for intruder in (world.staff_b, world.commander, world.auditor):
        response = as_user(intruder).post(reverse("api:notification-read", args=[theirs.pk]))
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_case_link_in_the_inbox_opens_the_case(world, case_in):
    case_in("dispatched")
    note = inbox(world.staff_a)[0]
    assert login(world.staff_a).get(f"/api/v1/cases/{note['case']['id']}/").status_code == 200


@pytest.mark.parametrize("page_size", [1, 100])
def test_inbox_costs_a_fixed_number_of_queries(
    world, case_in, page_size, django_assert_max_num_queries
):
    for _ in range(4):
        case_in("dispatched")
    client = login(world.staff_a)
    with django_assert_max_num_queries(2):  # the user, the page (with case, event and actor)
        response = client.get(reverse(INBOX), {"page_size": page_size})
    assert len(response.data["results"]) == min(page_size, 4)
