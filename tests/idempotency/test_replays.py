"""Every write a phone may retry honours ``Idempotency-Key``: sent twice, it happens once.

For each endpoint: the first request runs and its answer is kept; the same request
again gets that answer (``Idempotent-Replayed: true``) and no table gains or loses a
row; the same key with another body is 409; a retry after a refusal runs again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditRecord
from cases import services
from cases.models import SupervisionOrder
from idempotency.models import IdempotentRequest
from integrations.models import ExternalSystem
from integrations.services import parse_platform_case, take_in
from tests.api.client import as_user, case_url
from tests.chat.conftest import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def row_counts() -> dict[str, int]:
    """Rows in every table (audit rows of reads, e.g. a case page's phones, aside)."""
    counts = {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }
    counts["audit.AuditRecord"] = AuditRecord.objects.exclude(action="personal_data.view").count()
    return counts


@dataclass
class Write:
    """One retried write: who sends it, where, and two different bodies for it."""

    user: str
    method: str
    url: str
    body: dict
    other_body: dict
    format: str = "json"


def later(hours: int = 4) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def _raise(world, case_in) -> Write:
    body = {
        "community": world.community.pk,
        "title": "菜场门口占道经营",
        "template": world.template.pk,
        "answers": {"stall_count": 3, "goods": "果蔬"},
        "invitees": [{"department": world.dept_a.pk, "person": world.staff_a.pk}],
        "submit": True,
    }
    return Write("official", "post", reverse("api:case-list"), body, {**body, "title": "另一件"})


def _edit(world, case_in) -> Write:
    case = case_in("draft")
    return Write("official", "patch", case_url(case), {"title": "改过的"}, {"title": "又改"})


def _transition(name: str, state: str, user: str, field: str) -> Callable[..., Write]:
    def make(world, case_in) -> Write:
        case = case_in(state)
        return Write(user, "post", case_url(case, name), {field: "理由一"}, {field: "理由二"})

    return make


def _invite(world, case_in) -> Write:
    case = case_in("dispatched", invite=("staff_a",))
    body = {"department": world.dept_b.pk, "person": world.staff_b.pk}
    other = {"department": world.dept_a.pk, "person": world.staff_a2.pk}
    return Write("official", "post", case_url(case, "invitations"), body, other)


def _return(world, case_in) -> Write:
    case = case_in("dispatched")
    url = case_url(case, "return")
    return Write("staff_a", "post", url, {"reason": "非本部门职责"}, {"reason": "别的"})


def _redispatch(world, case_in) -> Write:
    case = case_in("dispatched")
    services.return_case(case, actor=world.staff_a, reason="非本部门职责")
    body = {"invitees": [{"department": world.dept_a.pk, "person": world.staff_a2.pk}]}
    return Write("official", "post", case_url(case, "redispatch"), body, {**body, "note": "改派"})


def _order(world, case_in) -> Write:
    case = case_in("in_progress")
    body = {"instruction": "今日内处理完毕", "due_at": later()}
    url = case_url(case, "supervision-orders")
    return Write("grid_leader", "post", url, body, {**body, "instruction": "明日"})


def _extension(world, case_in) -> Write:
    case = case_in("in_progress")
    body = {"reason": "等待材料", "until": (case.deadline + timedelta(days=2)).isoformat()}
    url = case_url(case, "extensions")
    return Write("staff_b", "post", url, body, {**body, "reason": "另一个理由"})


def _rate(world, case_in) -> Write:
    case = case_in("pending_rating")
    ratings = [
        {"department": d.pk, "scores": {"result": 95, "conduct": 90}, "comment": "及时"}
        for d in case.participating_departments()
    ]
    other = [{**r, "comment": "一般"} for r in ratings]
    url = case_url(case, "ratings")
    return Write("official", "post", url, {"ratings": ratings}, {"ratings": other})


def _invitation(name: str, state: str, user: str, field: str) -> Callable[..., Write]:
    def make(world, case_in) -> Write:
        case = case_in(state)
        invitation = case.invitations.get(person=world.staff_a)
        url = reverse(f"api:invitation-{name}", args=[invitation.pk])
        return Write(user, "post", url, {field: "理由一"}, {field: "理由二"})

    return make


def _answer(world, case_in) -> Write:
    case = case_in("in_progress")
    order = SupervisionOrder.objects.create(
        case=case, issued_by=world.grid_leader, instruction="限期办结", due_at=timezone.now()
    )
    url = reverse("api:supervision-order-answer", args=[order.pk])
    return Write("staff_a", "post", url, {"answer": "已处理"}, {"answer": "处理中"})


def _decide(name: str) -> Callable[..., Write]:
    def make(world, case_in) -> Write:
        case = case_in("in_progress")
        extension = services.request_extension(
            case,
            actor=world.staff_b,
            reason="材料未齐",
            until=case.deadline + timedelta(days=1),
        )
        url = reverse(f"api:extension-{name}", args=[extension.pk])
        return Write("commander", "post", url, {"note": "同意"}, {"note": "不同意"})

    return make


def _review(world) -> Any:
    system = ExternalSystem.objects.create(
        code="ywtg", name="一网统管平台", source="grid_platform", secret="s" * 32
    )
    data = {
        "external_id": "P900",
        "category_code": "X9",
        "area_code": "Z9",
        "title": "占道经营 P900",
        "address": "南桥路1号",
    }
    return take_in(system, parse_platform_case(system, data)).review


def _resolve(world, case_in) -> Write:
    review = _review(world)
    url = reverse("api:intake-review-resolve", args=[review.pk])
    body = {"template": world.template.pk, "community": world.community.pk}
    return Write("commander", "post", url, body, {**body, "remember": True})


def _dismiss(world, case_in) -> Write:
    review = _review(world)
    url = reverse("api:intake-review-dismiss", args=[review.pk])
    return Write("commander", "post", url, {"reason": "测试数据"}, {"reason": "重复"})


def _message(world, case_in) -> Write:
    case = case_in("in_progress")
    url = reverse("api:case-messages", args=[case.pk])
    return Write("official", "post", url, {"text": "到了"}, {"text": "马上到"})


def _photo(world, case_in) -> Write:
    """A multipart upload: each send builds a new body (another boundary, a new stream)."""
    case = case_in("in_progress")
    url = reverse("api:case-messages", args=[case.pk])
    return Write(
        "official",
        "post",
        url,
        {"kind": "image", "file": ("site.png", png_bytes()), "text": "现场"},
        {"kind": "image", "file": ("site.png", png_bytes(colour=(0, 90, 200))), "text": "现场"},
        format="multipart",
    )


WRITES: dict[str, Callable[..., Write]] = {
    "raise a case": _raise,
    "edit a draft": _edit,
    "submit": _transition("submit", "draft", "official", "note"),
    "approve": _transition("approve", "pending_review", "commander", "note"),
    "send back": _transition("send_back", "pending_review", "commander", "reason"),
    "cancel": _transition("cancel", "draft", "official", "reason"),
    "complete": _transition("complete", "in_progress", "official", "note"),
    "reopen": _transition("reopen", "pending_rating", "official", "reason"),
    "invite": _invite,
    "return": _return,
    "redispatch": _redispatch,
    "supervision order": _order,
    "extension request": _extension,
    "rate": _rate,
    "accept": _invitation("accept", "dispatched", "staff_a", "note"),
    "decline": _invitation("decline", "dispatched", "staff_a", "reason"),
    "withdraw": _invitation("withdraw", "in_progress", "official", "reason"),
    "answer an order": _answer,
    "approve an extension": _decide("approve"),
    "refuse an extension": _decide("refuse"),
    "resolve an intake review": _resolve,
    "dismiss an intake review": _dismiss,
    "chat text": _message,
    "chat photo": _photo,
}


def send(client, write: Write, body: dict, key: str | None):
    """``body`` sent afresh (uploads as new file objects), with ``key`` if given."""
    if write.format == "multipart":
        body = {
            name: SimpleUploadedFile(*value) if isinstance(value, tuple) else value
            for name, value in body.items()
        }
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return getattr(client, write.method)(write.url, body, format=write.format, **headers)


@pytest.fixture(params=sorted(WRITES))
def write(request, world, case_in) -> Write:
    return WRITES[request.param](world, case_in)


def test_a_replay_returns_the_first_answer_and_changes_nothing(world, write):
    client = as_user(getattr(world, write.user))
    key = str(uuid.uuid4())
    first = send(client, write, write.body, key)
    assert 200 <= first.status_code < 300, first.content
    assert "Idempotent-Replayed" not in first
    assert IdempotentRequest.objects.filter(key=key).count() == 1
    before = row_counts()

    again = send(client, write, write.body, key)

    assert again.status_code == first.status_code, again.content
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert row_counts() == before


def test_the_same_key_with_another_body_is_409_and_changes_nothing(world, write):
    client = as_user(getattr(world, write.user))
    key = str(uuid.uuid4())
    assert send(client, write, write.body, key).status_code < 300
    before = row_counts()

    other = send(client, write, write.other_body, key)

    assert other.status_code == 409, other.content
    error = other.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["message"]
    assert row_counts() == before


def test_without_a_key_the_write_is_unchanged(world, write):
    """The header is optional: old clients keep working, and nothing is kept for them."""
    client = as_user(getattr(world, write.user))
    assert send(client, write, write.body, None).status_code < 300
    assert not IdempotentRequest.objects.exists()
