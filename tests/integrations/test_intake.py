"""The city platform files cases over the signed intake API: signatures, clock, replay,
idempotency on their id, mapping and the review queue, every delivery recorded."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from accounts.choices import Role
from cases.models import Case, CaseEvent
from integrations.models import Delivery, ExternalCase, IntakeReview
from notifications.models import Notification
from tests.api.client import as_user
from tests.factories import UserFactory, grant, make_area
from tests.integrations.conftest import platform_case, post_signed

pytestmark = pytest.mark.django_db


def test_a_signed_case_lands_in_its_communitys_queue(world, platform, client):
    response = post_signed(client, platform, platform_case())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outcome"] == "created"
    case = Case.objects.get(pk=body["case"]["id"])
    assert (case.community, case.caller, case.state) == (world.community, world.official, "draft")
    assert (case.source, case.template) == ("grid_platform", world.template)
    assert case.title == "南桥路口占道经营" and case.address == "南桥路12号"
    assert ExternalCase.objects.get(case=case).external_id == "WG2026-000123"
    created = case.events.get()
    assert created.actor is None and created.data == {"via": "一网统管平台"}
    # The village official is told at once.
    assert Notification.objects.filter(
        case=case, recipient=world.official, kind="imported"
    ).exists()
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.status_code, delivery.case) == ("created", 201, case)


def test_a_second_delivery_returns_the_same_case_and_changes_nothing(world, platform, client):
    first = post_signed(client, platform, platform_case()).json()
    again = post_signed(client, platform, platform_case(title="改过的标题"))
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["case"]["id"] == first["case"]["id"]
    assert (
        "nothing was changed" in again.json()["message"]
        or "未作任何更改" in again.json()["message"]
    )
    case = Case.objects.get()
    assert case.title == "南桥路口占道经营" and CaseEvent.objects.count() == 1
    assert list(Delivery.objects.order_by("id").values_list("outcome", flat=True)) == [
        "created",
        "duplicate",
    ]


@pytest.mark.parametrize(
    "tamper, code",
    [
        ({"secret": "wrong-secret"}, "bad_signature"),
        ({"offset": -360}, "stale_request"),
        ({"offset": 360}, "stale_request"),
        ({"timestamp": "yesterday"}, "bad_timestamp"),
    ],
)
def test_untrusted_requests_are_refused_and_recorded(platform, client, tamper, code):
    if "offset" in tamper:  # the clock is read now, not when the tests were collected
        tamper = {"timestamp": int(time.time()) + tamper["offset"]}
    response = post_signed(client, platform, platform_case(), **tamper)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert not Case.objects.exists()
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.error_code, delivery.external_id) == (
        "refused",
        code,
        "WG2026-000123",
    )


def test_a_replayed_request_is_refused(platform, client):
    body = json.dumps(platform_case(), ensure_ascii=False).encode()
    timestamp = int(time.time())
    assert post_signed(client, platform, None, body=body, timestamp=timestamp).status_code == 201
    replay = post_signed(client, platform, None, body=body, timestamp=timestamp)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed"
    assert Case.objects.count() == 1


def test_an_inactive_or_unknown_system_is_refused(platform, client):
    platform.is_active = False
    platform.save()
    assert (
        post_signed(client, platform, platform_case()).json()["error"]["code"] == "system_inactive"
    )
    platform.code = "nobody"
    assert post_signed(client, platform, platform_case()).status_code == 401
    assert not Case.objects.exists()


def test_unmapped_codes_wait_for_review_instead_of_being_dropped(world, platform, client):
    response = post_signed(client, platform, platform_case(category_code="C-9999", area_code="A-1"))
    assert response.status_code == 202
    assert response.json()["outcome"] == "review"
    review = IntakeReview.objects.get()
    assert {p["code"] for p in review.problems} == {"unmapped_category", "unmapped_area"}
    assert review.payload["case"]["title"] == "南桥路口占道经营"
    assert not Case.objects.exists()
    # Delivered again (signed afresh) while it waits: still one entry in the queue.
    again = post_signed(
        client,
        platform,
        platform_case(category_code="C-9999", area_code="A-1", description="再次投递"),
    )
    assert again.status_code == 200 and IntakeReview.objects.count() == 1


def test_a_community_without_an_official_waits_for_review(world, platform, client):
    world.official.role_assignments.all().delete()
    response = post_signed(client, platform, platform_case())
    assert response.status_code == 202
    assert IntakeReview.objects.get().problems[0]["code"] == "no_official"


def test_resolving_a_review_makes_the_case_and_remembers_the_mapping(world, platform, client):
    from integrations.services import resolve_review

    post_signed(client, platform, platform_case(category_code="C-9999"))
    review = IntakeReview.objects.get()
    case = resolve_review(
        review,
        actor=world.commander,
        template=world.template,
        community=world.community,
        remember=True,
    )
    assert case.caller == world.official and review.state == "resolved" and review.case == case
    assert platform.category_mappings.filter(external_code="C-9999").exists()
    # The platform delivering it again now finds the case.
    # (A body of its own: the same body at the same second would be a replay.)
    again = post_signed(
        client, platform, platform_case(category_code="C-9999", description="再次投递")
    )
    assert again.json()["case"]["id"] == case.pk


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"external_id": "", "category_code": "C", "area_code": "A"}, {"external_id", "title"}),
        (platform_case(latitude="north"), {"latitude"}),
        (platform_case(longitude=200), {"longitude"}),
        (platform_case(priority="asap"), {"priority"}),
        (platform_case(answers=["x"]), {"answers"}),
        (platform_case(title="x" * 201), {"title"}),
        (platform_case(answers={"stall_count": "很多"}), {"stall_count"}),
    ],
)
def test_malformed_cases_are_400_with_the_fields_named(platform, client, body, fields):
    response = post_signed(client, platform, body)
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) == fields
    assert not Case.objects.exists() and not IntakeReview.objects.exists()
    assert Delivery.objects.get().outcome == "refused"


def test_a_body_that_is_not_json_is_400(platform, client):
    response = post_signed(client, platform, None, body=b"\xff\xfe not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_concurrent_deliveries_of_one_id_make_one_case(world, platform):
    from integrations.services import parse_platform_case, take_in
    from tests.cases.test_concurrency import race

    def deliver():
        from django.db import transaction

        with transaction.atomic():
            return take_in(platform, parse_platform_case(platform, platform_case())).outcome

    for round_ in range(5):
        outcomes = race(deliver, deliver)
        assert sorted(outcomes) == ["created", "duplicate"], outcomes
        assert Case.objects.count() == round_ + 1
        ExternalCase.objects.all().delete()
        Case.objects.filter(source="grid_platform").update(external_id="")


class TestReviewQueueApi:
    """Commanders work the queue from the phone: scoped to their communities."""

    @pytest.fixture
    def waiting(self, world, platform, client):
        post_signed(client, platform, platform_case(category_code="C-9999"))  # area known
        post_signed(
            client,
            platform,
            platform_case(external_id="WG-2", area_code="A-unknown"),
            timestamp=int(time.time()) - 1,
        )
        return {r.external_id: r for r in IntakeReview.objects.all()}

    def test_a_commander_sees_their_communitys_and_the_unplaced(self, world, waiting):
        listed = as_user(world.commander).get(reverse("api:intake-review-list")).json()
        assert {r["external_id"] for r in listed["results"]} == {"WG2026-000123", "WG-2"}
        assert any("C-9999" in p for r in listed["results"] for p in r["problems"])

        elsewhere = make_area(3, world.town, code="G99", name="别的网格")
        other = UserFactory(username="other_commander")
        grant(other, Role.COMMANDER, area=elsewhere)
        listed = as_user(other).get(reverse("api:intake-review-list")).json()
        assert [r["external_id"] for r in listed["results"]] == ["WG-2"]
        assert (
            as_user(world.official).get(reverse("api:intake-review-list")).json()["results"] == []
        )
        hidden = waiting["WG2026-000123"].pk
        assert (
            as_user(other).get(reverse("api:intake-review-detail", args=[hidden])).status_code
            == 404
        )

    def test_a_commander_resolves_and_dismisses(self, world, waiting):
        review = waiting["WG2026-000123"]
        response = as_user(world.commander).post(
            reverse("api:intake-review-resolve", args=[review.pk]),
            {"template": world.template.pk, "community": world.community.pk, "remember": True},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["state"] == "resolved" and response.json()["case"]
        other = waiting["WG-2"]
        url = reverse("api:intake-review-dismiss", args=[other.pk])
        assert as_user(world.commander).post(url, {}, format="json").status_code == 400
        response = as_user(world.commander).post(url, {"reason": "测试数据"}, format="json")
        assert response.status_code == 200 and response.json()["state"] == "dismissed"
        again = as_user(world.commander).post(url, {"reason": "再来"}, format="json")
        assert again.status_code == 409
