"""The phone API: a case's whole life over HTTP, who sees what, and the one error shape."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from cases.choices import CaseState
from cases.models import Case
from tests.api.client import case_url, login

pytestmark = pytest.mark.django_db


def test_a_case_lives_its_whole_life_over_http(world):
    official, commander = login(world.official), login(world.commander)
    raised = official.post(
        reverse("api:case-list"),
        {
            "community": world.community.pk,
            "title": "菜场门口占道经营",
            "template": world.template.pk,
            "answers": {"stall_count": 3, "goods": "果蔬"},
            "address": "菜场门口",
            "invitees": [
                {"department": world.dept_a.pk, "person": world.staff_a.pk},
                {"department": world.dept_b.pk, "person": world.staff_b.pk},
            ],
            "submit": True,
        },
        format="json",
    )
    assert raised.status_code == 201, raised.content
    case = Case.objects.get(pk=raised.data["id"])
    assert raised.data["state"] == CaseState.PENDING_REVIEW and raised.data["number"] == case.number
    assert commander.get(reverse("api:me")).data["waiting"]["to_review"] == 1
    assert "approve" in commander.get(case_url(case)).data["allowed_transitions"]

    assert (
        commander.post(case_url(case, "approve"), {"note": "请尽快处置"}, format="json").data[
            "state"
        ]
        == "dispatched"
    )
    for person in (world.staff_a, world.staff_b):
        phone = login(person)
        assert phone.get(reverse("api:me")).data["waiting"]["invitations"] == 1
        invitation = case.invitations.get(person=person)
        answer = phone.post(
            reverse("api:invitation-accept", args=[invitation.pk]), {}, format="json"
        )
        assert answer.status_code == 200 and answer.data["state"] == "accepted"
    assert official.get(case_url(case)).data["state"] == CaseState.IN_PROGRESS

    assert (
        official.post(case_url(case, "complete"), {}, format="json").data["state"]
        == "pending_rating"
    )
    assert official.get(reverse("api:me")).data["waiting"]["to_rate"] == 1
    rated = official.post(
        case_url(case, "ratings"),
        {
            "ratings": [
                {
                    "department": world.dept_a.pk,
                    "scores": {"result": 100, "conduct": 95},
                    "comment": "及时",
                },
                {"department": world.dept_b.pk, "scores": {"result": 98, "conduct": 100}},
            ]
        },
        format="json",
    )
    assert rated.status_code == 200 and rated.data["state"] == CaseState.CLOSED
    kinds = [e["kind"] for e in official.get(case_url(case, "events")).data]
    assert kinds[0] == "created" and kinds[-1] == "closed" and kinds.count("rated") == 2
    ratings = official.get(case_url(case, "ratings")).data
    assert {r["department"]["id"] for r in ratings} == {world.dept_a.pk, world.dept_b.pk}
    assert all("rater" not in r and "person" not in r for r in ratings)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("official", 200),
        ("other_official", 404),
        ("commander", 200),
        ("grid_leader", 200),
        ("leader", 200),
        ("staff_a", 200),
        ("staff_a2", 404),
        ("staff_b", 404),
        ("head_a", 200),
        ("auditor", 200),
        ("stranger", 404),
    ],
)
def test_who_sees_a_case(world, case_in, role, status):
    case = case_in("dispatched", invite=("staff_a",))
    assert login(getattr(world, role)).get(case_url(case)).status_code == status


def test_seeing_is_not_acting_403_and_hiding_is_404(world, case_in):
    case = case_in("pending_review")
    refused = login(world.official).post(case_url(case, "approve"), {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    hidden = login(world.other_official).post(case_url(case, "approve"), {}, format="json")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    case.refresh_from_db()
    assert case.state == CaseState.PENDING_REVIEW


def test_errors_share_one_shape_in_chinese(world, case_in):
    client = login(world.official)
    draft = case_in("draft")
    cases = [
        (client.post(case_url(draft, "complete"), {}, format="json"), 409, "invalid_transition"),
        (client.post(case_url(draft, "cancel"), {}, format="json"), 400, "invalid"),
        (
            client.post(reverse("api:case-list"), "{not json", content_type="application/json"),
            400,
            "malformed_request",
        ),
        (
            client.post(reverse("api:case-list"), {"community": "x", "title": ""}, format="json"),
            400,
            "invalid",
        ),
        (
            client.post(
                reverse("api:case-list"),
                {
                    "community": world.community.pk,
                    "title": "t",
                    "template": world.template.pk,
                    "answers": {"goods": "家电"},
                },
                format="json",
            ),
            400,
            "invalid",
        ),
        (client.get(reverse("api:case-detail", args=[999999])), 404, "not_found"),
        (APIClient().get(reverse("api:case-list")), 401, "not_authenticated"),
    ]
    for response, status, code in cases:
        body = response.json()
        assert response.status_code == status, body
        assert set(body["error"]) == {"code", "message", "fields"} and body["error"]["code"] == code
    invalid = cases[4][0].json()["error"]
    assert "goods" in invalid["fields"]
    assert (
        "不能" in cases[0][0].json()["error"]["message"]
        or "无法" in cases[0][0].json()["error"]["message"]
    )
    assert Case.objects.count() == 1  # nothing half-saved


def test_logout_revokes_the_refresh_token(world):
    client = login(world.official)
    refresh = reverse("api:token-refresh")
    assert (
        APIClient().post(refresh, {"refresh": client.refresh_token}, format="json").status_code
        == 200
    )
    fresh = login(world.official)
    assert (
        fresh.post(
            reverse("api:logout"), {"refresh": fresh.refresh_token}, format="json"
        ).status_code
        == 204
    )
    again = APIClient().post(refresh, {"refresh": fresh.refresh_token}, format="json")
    assert again.status_code == 401 and again.json()["error"]["code"] == "token_not_valid"


def test_wrong_password_is_refused_in_the_error_shape(world):
    response = APIClient().post(
        reverse("api:token"), {"username": "official", "password": "nope"}, format="json"
    )
    assert (
        response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"
    )


def test_me_lists_roles_with_their_scope(world):
    me = login(world.commander).get(reverse("api:me")).data
    assert me["name"] == "王指挥长"
    assert me["roles"] == [
        {
            "role": "commander",
            "role_label": "指挥长",
            "area": {"id": world.grid.pk, "name": "南桥第一网格", "level": 3},
            "department": None,
        }
    ]


@pytest.mark.parametrize("page_size", [1, 100])
def test_case_list_costs_a_fixed_number_of_queries(
    world, case_in, page_size, django_assert_max_num_queries
):
    for state in ("draft", "pending_review", "dispatched", "in_progress", "closed"):
        case_in(state)
    client = login(world.commander)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("api:case-list"), {"page_size": page_size})
    assert response.status_code == 200 and len(response.data["results"]) == min(page_size, 5)


def test_case_list_filters(world, case_in):
    draft, closed = case_in("draft"), case_in("closed")
    client = login(world.commander)
    url = reverse("api:case-list")
    ids = lambda **q: {c["id"] for c in client.get(url, q).data["results"]}  # noqa: E731
    assert ids(state="closed") == {closed.pk}
    assert ids(area=world.grid.pk) == {draft.pk, closed.pk}
    assert ids(area=world.other_community.pk) == set()
    assert ids(q=draft.number) == {draft.pk}
    assert ids(department=world.dept_b.pk) == {draft.pk, closed.pk}
    assert client.get(url, {"state": "nonsense"}).json()["error"]["code"] == "invalid"


def test_the_schema_validates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_docs_are_served_from_local_assets(client, world):
    client.force_login(world.official)
    page = client.get(reverse("api-docs")).content.decode()
    assert "swagger" in page.lower() and "cdn" not in page.lower() and "//unpkg" not in page


def test_every_operation_documents_its_refusals_in_the_error_shape():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    error = {"$ref": "#/components/schemas/Error"}
    operations = [
        (path, method, op)
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in ops.items()
    ]
    assert len(operations) > 30
    for path, method, op in operations:
        expected = {"400", "401"} | ({"404"} if "{" in path else set())
        if method in ("post", "patch"):
            expected |= {"413", "429"}
        assert expected <= set(op["responses"]), (path, method)
        for code in expected:
            assert op["responses"][code]["content"]["application/json"]["schema"] == error
    approve = schema["paths"]["/api/v1/cases/{id}/approve/"]["post"]
    assert approve["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "NoteRequest"
    )
    assert "409" in approve["responses"]
