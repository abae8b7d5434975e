"""Object-level access over HTTP: guessing ids reveals nothing; bad input changes nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from cases.choices import CaseState
from cases.models import Case, CaseEvent, Invitation
from ratings.models import Rating
from tests.api.client import as_user, case_url

pytestmark = pytest.mark.django_db

CASE_READS = ["", "events", "invitations"]
CASE_WRITES = ["submit", "approve", "send_back", "cancel", "complete", "reopen", "invitations"]


def snapshot() -> tuple:
    """Everything a refused request must leave as it was."""
    return (
        list(Case.objects.order_by("pk").values_list("pk", "state", "title", "description")),
        CaseEvent.objects.count(),
        list(Invitation.objects.order_by("pk").values_list("pk", "state")),
        Rating.objects.count(),
    )


@pytest.mark.parametrize("intruder", ["other_official", "stranger", "staff_a2", "staff_b"])
def test_guessing_a_case_id_reveals_nothing(world, case_in, intruder):
    case = case_in("dispatched", invite=("staff_a",))
    invitation = case.invitations.get()
    client = as_user(getattr(world, intruder))
    before = snapshot()
    for path in CASE_READS + ["ratings"]:
        response = client.get(case_url(case, path or None))
        assert response.status_code == 404, (path, response.content)
        assert response.json()["error"]["code"] == "not_found"
    for path in CASE_WRITES + ["ratings"]:
        assert client.post(case_url(case, path), {"reason": "x"}, format="json").status_code == 404
    assert client.patch(case_url(case), {"title": "改"}, format="json").status_code == 404
    for action in ("accept", "decline"):
        url = reverse(f"api:invitation-{action}", args=[invitation.pk])
        assert client.post(url, {"reason": "x"}, format="json").status_code == 404
    assert client.get(reverse("api:invitation-detail", args=[invitation.pk])).status_code == 404
    assert case.number not in client.get(reverse("api:case-list")).content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("reader", ["leader", "grid_leader", "head_a", "auditor"])
def test_readers_read_everything_of_a_case_and_change_nothing(world, case_in, reader):
    case = case_in("in_progress")
    client = as_user(getattr(world, reader))
    for path in CASE_READS:
        assert client.get(case_url(case, path or None)).status_code == 200, path
    detail = client.get(case_url(case)).data
    assert detail["allowed_transitions"] == []
    before = snapshot()
    for path in CASE_WRITES:
        response = client.post(
            case_url(case, path),
            {"reason": "x", "department": world.dept_a.pk, "person": world.staff_a2.pk},
            format="json",
        )
        assert response.status_code in (403, 409), (path, response.content)
    assert client.patch(case_url(case), {"title": "改"}, format="json").status_code in (403, 409)
    invitation = case.invitations.first()
    refused = client.post(reverse("api:invitation-accept", args=[invitation.pk]), format="json")
    assert refused.status_code in (403, 404)
    assert snapshot() == before


def test_answering_someone_elses_invitation_is_refused(world, case_in):
    case = case_in("dispatched", invite=("staff_a",))
    invitation = case.invitations.get()
    for other in (world.official, world.commander, world.head_a):
        response = as_user(other).post(
            reverse("api:invitation-accept", args=[invitation.pk]), format="json"
        )
        assert response.status_code == 403, other
        assert response.json()["error"]["message"] == "只有受邀人员本人可以处理该邀请。"
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_fields_nobody_may_set_are_ignored(world):
    response = as_user(world.official).post(
        reverse("api:case-list"),
        {
            "community": world.community.pk,
            "title": "井盖缺失",
            "category": world.template.category_id,
            "state": "closed",
            "caller": world.other_official.pk,
            "number": "FX-1999-000001",
            "deadline": "2030-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.data["id"])
    assert case.state == CaseState.DRAFT and case.caller == world.official
    assert case.number != "FX-1999-000001" and case.deadline is None
    patched = as_user(world.official).patch(
        case_url(case), {"state": "closed", "title": "井盖缺失（已核实）"}, format="json"
    )
    assert patched.status_code == 200
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT and case.title == "井盖缺失（已核实）"


def _bad_writes(world, case_in):
    """(method, url, body, expected status, expected code): one per write endpoint."""
    draft, live, done = case_in("draft"), case_in("in_progress"), case_in("pending_rating")
    invitation = live.invitations.first()
    cases = reverse("api:case-list")
    long = "长" * 2001
    return [
        ("post", cases, {"community": "曙光村", "title": "t"}, 400, "invalid"),
        ("post", cases, {"community": world.community.pk, "title": ["t"]}, 400, "invalid"),
        (
            "post",
            cases,
            {"community": world.community.pk, "title": "t", "latitude": 200},
            400,
            "invalid",
        ),
        (
            "post",
            cases,
            {"community": world.community.pk, "title": "t", "invitees": "all"},
            400,
            "invalid",
        ),
        (
            "post",
            cases,
            {"community": world.grid.pk, "title": "t", "category": world.template.category_id},
            400,
            "invalid",
        ),
        ("patch", case_url(draft), {"priority": "whenever"}, 400, "invalid"),
        ("patch", case_url(live), {"title": "改"}, 409, "invalid_transition"),
        ("post", case_url(draft, "submit"), {"note": long}, 400, "invalid"),
        ("post", case_url(live, "reopen"), {"reason": "重做"}, 409, "invalid_transition"),
        ("post", case_url(live, "cancel"), {}, 400, "invalid"),
        ("post", case_url(live, "send_back"), {"reason": ""}, 400, "invalid"),
        ("post", case_url(draft, "complete"), {}, 409, "invalid_transition"),
        (
            "post",
            case_url(live, "invitations"),
            {"department": world.dept_b.pk, "person": world.staff_a2.pk},
            400,
            "invalid",
        ),
        (
            "post",
            case_url(live, "invitations"),
            {"department": 999999, "person": world.staff_a2.pk},
            400,
            "invalid",
        ),
        ("post", reverse("api:invitation-decline", args=[invitation.pk]), {}, 400, "invalid"),
        (
            "post",
            case_url(done, "ratings"),
            {"ratings": [{"department": world.dept_a.pk, "scores": {"result": 101}}]},
            400,
            "invalid",
        ),
        (
            "post",
            case_url(done, "ratings"),
            {"ratings": [{"department": world.dept_a.pk, "scores": {"speed": 90}}]},
            400,
            "invalid",
        ),
        ("post", case_url(done, "ratings"), {"ratings": []}, 400, "invalid"),
        (
            "post",
            case_url(live, "ratings"),
            {"ratings": [{"department": world.dept_a.pk, "scores": {"result": 90, "conduct": 90}}]},
            409,
            "invalid_transition",
        ),
    ]


def test_every_write_endpoint_refuses_bad_input_clearly_and_changes_nothing(world, case_in):
    writes = _bad_writes(world, case_in)
    before = snapshot()
    for method, url, body, status, code in writes:
        actor = world.staff_a if "invitation" in url and "decline" in url else world.official
        if url.endswith("/invitations/") and "person" in body:
            actor = world.commander
        response = getattr(as_user(actor), method)(url, body, format="json")
        error = response.json()["error"]
        assert (response.status_code, error["code"]) == (status, code), (url, body, error)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error  # Chinese
    assert snapshot() == before


def test_malformed_bodies_are_4xx_never_500(world, case_in):
    case = case_in("draft")
    client = as_user(world.official)
    for body, content_type in (
        ("{not json", "application/json"),
        ("[1, 2", "application/json"),
        ("\xff\xfe", "application/json"),
        ("title=x", "text/plain"),
    ):
        response = client.post(case_url(case, "submit"), body, content_type=content_type)
        assert 400 <= response.status_code < 500, (body, response.status_code)
        assert "error" in response.json()
    assert client.post(case_url(case, "submit"), [1, 2], format="json").status_code == 400
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_an_oversized_body_is_a_413_in_the_error_shape(world):
    response = as_user(world.official).post(
        reverse("api:case-list"),
        {"community": world.community.pk, "title": "t", "description": "长" * 20_000},
        format="json",
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large" and "9.8" in error["message"]
    assert not Case.objects.exists()


def test_unknown_ids_are_404_not_500(world):
    client = as_user(world.official)
    for url in (
        "/api/v1/cases/0/",
        "/api/v1/cases/abc/",
        "/api/v1/cases/99999999999999999999/",
        "/api/v1/invitations/12345/accept/",
        "/api/v1/templates/777/",
        "/api/v1/notifications/5/read/",
    ):
        method = client.post if url.endswith(("accept/", "read/")) else client.get
        response = method(url, {}, format="json")
        assert response.status_code == 404, (url, response.status_code)


def test_the_caller_or_a_commander_withdraws_an_invitation(world, case_in):
    case = case_in("in_progress", invite=("staff_a", "staff_b"))
    invitation = case.invitations.get(person=world.staff_a)
    url = reverse("api:invitation-withdraw", args=[invitation.pk])
    for refused in (world.staff_a, world.head_a):
        assert as_user(refused).post(url, {"reason": "x"}, format="json").status_code == 403
    assert as_user(world.commander).post(url, {}, format="json").status_code == 400
    done = as_user(world.commander).post(url, {"reason": "改派他人"}, format="json")
    assert done.status_code == 200 and done.data["state"] == "withdrawn"
    again = as_user(world.commander).post(url, {"reason": "再撤"}, format="json")
    assert again.status_code == 409
    assert as_user(world.staff_a).get(case_url(case)).status_code == 404  # off the case
    assert case.events.filter(kind="withdrawn", note="改派他人").exists()
