"""Supervision over the phone API: orders, extensions, returns and re-dispatch,
each a 404 outside the asker's cases and a 403 for the wrong role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases.choices import CaseState, InvitationState
from tests.api.client import as_user, case_url

pytestmark = pytest.mark.django_db


def later(hours=4) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_a_grid_leader_orders_and_a_handler_answers(world, case_in):
    case = case_in("in_progress")
    response = as_user(world.grid_leader).post(
        case_url(case, "supervision-orders"),
        {"instruction": "今日内处理完毕", "due_at": later()},
        format="json",
    )
    assert response.status_code == 201, response.content
    order_id = response.data["id"]
    assert response.data["state"] == "open"

    answer_url = reverse("api:supervision-order-answer", args=[order_id])
    refused = as_user(world.official).post(answer_url, {"answer": "好"}, format="json")
    assert refused.status_code == 403
    response = as_user(world.staff_a).post(answer_url, {"answer": "已处理"}, format="json")
    assert response.status_code == 200 and response.data["state"] == "answered"

    listed = as_user(world.official).get(case_url(case, "supervision-orders"))
    assert [o["answer"] for o in listed.data] == ["已处理"]


def test_an_order_from_a_village_official_is_403_and_from_outside_404(world, case_in):
    case = case_in("in_progress")
    body = {"instruction": "快", "due_at": later()}
    assert (
        as_user(world.official)
        .post(case_url(case, "supervision-orders"), body, format="json")
        .status_code
        == 403
    )
    assert (
        as_user(world.other_official)
        .post(case_url(case, "supervision-orders"), body, format="json")
        .status_code
        == 404
    )
    assert not case.supervision_orders.exists()


def test_a_malformed_order_is_400_and_changes_nothing(world, case_in):
    case = case_in("in_progress")
    response = as_user(world.leader).post(
        case_url(case, "supervision-orders"), {"instruction": "", "due_at": "明天"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.data["error"]["fields"]) == {"instruction", "due_at"}
    assert not case.supervision_orders.exists()


def test_extension_asked_and_approved(world, case_in):
    case = case_in("in_progress")
    until = (case.deadline + timedelta(days=2)).isoformat()
    response = as_user(world.staff_b).post(
        case_url(case, "extensions"), {"reason": "等待材料", "until": until}, format="json"
    )
    assert response.status_code == 201, response.content
    extension = response.data["id"]
    assert (
        as_user(world.staff_b)
        .post(reverse("api:extension-approve", args=[extension]), {}, format="json")
        .status_code
        == 403
    )
    refused = as_user(world.commander).post(
        reverse("api:extension-refuse", args=[extension]), {}, format="json"
    )
    assert refused.status_code == 400  # refusing needs a note
    response = as_user(world.commander).post(
        reverse("api:extension-approve", args=[extension]), {"note": "同意"}, format="json"
    )
    assert response.status_code == 200 and response.data["state"] == "approved"
    case.refresh_from_db()
    assert case.deadline == parse_datetime(response.data["requested_deadline"])


def test_return_and_redispatch(world, case_in):
    case = case_in("dispatched")
    response = as_user(world.staff_a).post(
        case_url(case, "return"), {"reason": "非本部门职责"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert {
        i["state"] for i in response.data["invitations"] if i["department"]["id"] == world.dept_a.pk
    } == {InvitationState.RETURNED}

    body = {
        "invitees": [{"department": world.dept_a.pk, "person": world.staff_a2.pk}],
        "note": "改派",
    }
    assert (
        as_user(world.staff_b).post(case_url(case, "redispatch"), body, format="json").status_code
        == 403
    )
    response = as_user(world.official).post(case_url(case, "redispatch"), body, format="json")
    assert response.status_code == 200, response.content
    assert response.data["state"] == CaseState.DISPATCHED
    assert any(i["person"]["id"] == world.staff_a2.pk for i in response.data["invitations"])


def test_return_without_reason_is_400(world, case_in):
    case = case_in("in_progress")
    response = as_user(world.staff_a).post(case_url(case, "return"), {}, format="json")
    assert response.status_code == 400
    assert not case.invitations.filter(state=InvitationState.RETURNED).exists()
