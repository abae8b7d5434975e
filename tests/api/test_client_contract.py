"""What a phone client needs from the API and its schema (issue 13): the rating criteria,
the case after an acceptance, required response fields, one name for the case id, typed
``me/`` roles, and a description of its own for each case operation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from ratings.models import Criterion
from tests.api.client import as_user, case_url

pytestmark = pytest.mark.django_db


def test_rating_criteria_are_listed_to_logged_in_people(world):
    Criterion.objects.create(code="old", name="旧标准", is_active=False)
    Criterion.objects.filter(code="conduct").update(position=1)
    Criterion.objects.filter(code="result").update(position=2)
    url = reverse("api:rating-criterion-list")
    assert APIClient().get(url).status_code == 401
    response = as_user(world.stranger).get(url)
    assert response.status_code == 200
    assert [c["code"] for c in response.data] == ["conduct", "result"]  # active, in order
    first = response.data[0]
    assert first == {
        "code": "conduct",
        "label": "工作作风",
        "order": 1,
        "weight": "1.00",
        "min": 0,
        "max": 100,
    }


def test_accepting_answers_with_the_moved_case(world, case_in):
    case = case_in("dispatched", invite=("staff_a",))
    invitation = case.invitations.get()
    response = as_user(world.staff_a).post(
        reverse("api:invitation-accept", args=[invitation.pk]), {}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["state"] == "accepted" and response.data["case"] == case.pk  # as before
    assert response.data["updated_case"]["id"] == case.pk
    assert response.data["updated_case"]["state"] == "in_progress"
    assert "return" in response.data["updated_case"]["available_actions"]


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    import json

    return json.loads(response.content)


def test_case_responses_require_what_is_always_there(schema):
    components = schema["components"]["schemas"]
    for name in ("CaseList", "CaseDetail"):
        required = set(components[name]["required"])
        assert {"state", "created_at", "priority", "source"} <= required, name
    assert "available_actions" in components["CaseDetail"]["required"]


def test_one_name_for_the_case_id_in_paths(schema):
    names = {
        path.split("/cases/")[1].split("/")[0] for path in schema["paths"] if "/cases/{" in path
    }
    assert names == {"{id}"}, names
    assert "/api/v1/cases/{id}/messages/" in schema["paths"]


def test_me_roles_and_staff_ids_are_typed_and_documented(schema):
    components = schema["components"]["schemas"]
    role = components["Role"]["properties"]
    assert "$ref" in str(role["area"]) and "$ref" in str(role["department"])
    # the schema speaks the reader's language (Chinese by default): the field it goes in
    # is named by its code
    assert "`person`" in components["Staff"]["properties"]["id"]["description"]


def test_each_case_operation_has_its_own_description(schema):
    paths = schema["paths"]
    operations = {
        "submit": ("/api/v1/cases/{id}/submit/", "post"),
        "approve": ("/api/v1/cases/{id}/approve/", "post"),
        "send_back": ("/api/v1/cases/{id}/send_back/", "post"),
        "cancel": ("/api/v1/cases/{id}/cancel/", "post"),
        "complete": ("/api/v1/cases/{id}/complete/", "post"),
        "reopen": ("/api/v1/cases/{id}/reopen/", "post"),
        "return": ("/api/v1/cases/{id}/return/", "post"),
        "redispatch": ("/api/v1/cases/{id}/redispatch/", "post"),
        "invite": ("/api/v1/cases/{id}/invitations/", "post"),
        "supervise": ("/api/v1/cases/{id}/supervision-orders/", "post"),
        "ask_extension": ("/api/v1/cases/{id}/extensions/", "post"),
        "rate": ("/api/v1/cases/{id}/ratings/", "post"),
        "accept": ("/api/v1/invitations/{id}/accept/", "post"),
    }
    descriptions = {name: paths[p][m].get("description", "") for name, (p, m) in operations.items()}
    assert all(descriptions.values()), descriptions
    assert len(set(descriptions.values())) == len(descriptions)
    for name, text in descriptions.items():
        assert f"`{name}`" in text, name


def test_case_url_helper_still_points_at_the_same_place(world, case_in):
    """Old clients: the URLs themselves did not change."""
    case = case_in("draft")
    assert case_url(case) == f"/api/v1/cases/{case.pk}/"
    assert reverse("api:case-messages", args=[case.pk]) == f"/api/v1/cases/{case.pk}/messages/"
