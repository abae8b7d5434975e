"""The case list's rows take a plain path (issue 16): same output as DRF's own."""

from __future__ import annotations

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
