"""The case list's rows take a plain path (issue 16): same output as DRF's own."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework import serializers

from cases.api.serializers import CaseListSerializer
from cases.models import Case
from tests.api.client import as_user

pytestmark = pytest.mark.django_db


def test_the_list_rows_are_what_drf_would_have_written(world, case_in):
    for state in ("draft", "pending_review", "dispatched", "in_progress", "closed"):
        case_in(state)
    Case.objects.filter(state="dispatched").update(deadline=None)  # a null field too
    response = as_user(world.commander).get(reverse("api:case-list"), {"page_size": 100})
    assert response.status_code == 200
    rows = response.data["results"]
    assert len(rows) == 5
    cases = Case.objects.select_related("community", "category").in_bulk([r["id"] for r in rows])
    for row in rows:
        case = cases[row["id"]]
        case.unread_messages = row["unread_messages"]
        generic = serializers.ModelSerializer.to_representation(CaseListSerializer(case), case)
        assert row == generic
        assert row["state_label"] == str(case.get_state_display())


FILTERS = (
    {},
    {"state": "dispatched"},
    {"state": ["closed", "draft"]},
    {"overdue": "true"},
    {"overdue": "false"},
    {"q": "0"},
    {"source": "village"},
    {"page_size": 2},
)


def test_every_roles_list_is_byte_for_byte_what_drf_wrote(world, case_in, monkeypatch):
    """The list reads ``.values()`` (no model instances): every role's list, each filter and a
    second page are the same bytes as DRF's own list over model instances."""
    from django.utils import timezone
    from rest_framework import mixins

    from cases.api.views import CaseViewSet
    from chat.models import Message

    cases = [case_in(state) for state in ("draft", "dispatched", "in_progress", "closed")]
    cases.append(case_in("dispatched"))
    Case.objects.filter(pk=cases[1].pk).update(deadline=timezone.now() - timezone.timedelta(days=1))
    Case.objects.filter(pk=cases[4].pk).update(deadline=None, address="")
    Message.objects.create(case=cases[2], kind="text", sender=world.official, text="到了")
    Message.objects.create(case=cases[2], kind="text", sender=world.commander, text="好")
    url = reverse("api:case-list")

    def lists(user):
        out = []
        for params in FILTERS:
            response = as_user(user).get(url, {"page_size": 100, **params})
            assert response.status_code == 200
            out.append(response.content)
            following = response.data.get("next")
            if following:  # the next page's cursor comes from the rows too
                out.append(as_user(user).get(following).content)
        return out

    users = world.users()
    new = {name: lists(user) for name, user in users.items()}
    # DRF's own path: ListModelMixin over model instances, the serializer's generic rows.
    monkeypatch.setattr(CaseViewSet, "list", mixins.ListModelMixin.list)
    monkeypatch.setattr(
        CaseListSerializer, "to_representation", serializers.ModelSerializer.to_representation
    )
    old = {name: lists(user) for name, user in users.items()}
    assert new == old
    seen = b"".join(b"".join(pages) for pages in new.values())
    assert b'"is_overdue":true' in seen and re.search(rb'"unread_messages":[1-9]', seen)
    assert b'"deadline":null' in seen and b'"next":"http' in seen
