"""The ``Idempotency-Key`` rules themselves: which writes honour it, malformed keys,
refusals, people, expiry, the kept answer's transaction, and the schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.choices import Role
from cases.models import Case
from core.api import idempotency
from idempotency import services as idempotency_services
from idempotency.models import IdempotentRequest
from idempotency.tasks import purge_expired
from tests.api.client import as_user, case_url
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

UNSAFE = {"post", "put", "patch", "delete"}

#: API writes that do not take the header, and why.
NOT_KEYED = {
    "LoginView.post": "logging in: a kept answer would hold tokens",
    "SessionLoginView.post": "logging in: each log-in starts its own session",
    "SessionLoginView.delete": "ending a session twice is ending it once",
    "RefreshView.post": "a kept answer would hold tokens; a refresh token is single-use anyway",
    "LogoutView.post": "ending a token twice is ending it once",
    "PasswordChangeView.post": "a kept answer would hold tokens",
    "SocketTicketView.post": "a kept answer would hold a ticket; a new ticket is harmless",
    "ReadMarkView.post": "a read mark only moves forward: sent twice, it is the same mark",
    "NotificationViewSet.read": "marking read twice is marking it once",
    "NotificationViewSet.read_all": "marking read twice is marking it once",
    "IntakeView.post": "other systems, signed; a case's external_id makes a resend the same case",
}


def api_writes() -> dict[str, object]:
    """``View.handler`` → the handler, for every unsafe method under /api/v1/."""
    found: dict[str, object] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            assert isinstance(pattern, URLPattern)
            if not (prefix + str(pattern.pattern)).startswith("api/v1/"):
                continue
            view = getattr(pattern.callback, "cls", None)
            if view is None:
                continue
            actions = getattr(pattern.callback, "actions", None)
            if actions is None:  # an APIView: its own methods
                actions = {m: m for m in UNSAFE if hasattr(view, m)}
            for method, name in actions.items():
                if method in UNSAFE:
                    found[f"{view.__name__}.{name}"] = getattr(view, name)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_write_honours_the_key_or_says_why_not():
    writes = api_writes()
    keyed = {name for name, handler in writes.items() if idempotency.is_idempotent(handler)}
    assert set(writes) - keyed == set(NOT_KEYED), "a new write: @idempotent, or say why not"
    assert {"CaseViewSet.create", "CaseViewSet.submit", "MessageListView.post"} <= keyed


def test_the_schema_documents_the_header_on_every_keyed_write(client):
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    documented = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert ("post", "/api/v1/cases/") in documented
    assert ("post", "/api/v1/cases/{id}/approve/") in documented
    assert ("post", "/api/v1/cases/{id}/messages/") in documented
    assert ("get", "/api/v1/cases/{id}/invitations/") not in documented
    assert not any(path.startswith("/api/v1/auth/") for _m, path in documented)
    raise_case = schema["paths"]["/api/v1/cases/"]["post"]
    header = next(p for p in raise_case["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and not header.get("required", False)
    assert "idempotency_key_reused" in raise_case["responses"]["409"]["description"]
    replayed = raise_case["responses"]["201"]["headers"]["Idempotent-Replayed"]
    assert replayed["schema"] == {"type": "string", "enum": ["true"]}
    assert len(documented) == sum(1 for h in api_writes().values() if idempotency.is_idempotent(h))


@pytest.mark.parametrize(
    "key",
    [
        "",
        "   ",
        "k" * 256,
        "key\x00",
        "key\x01",
        "钥匙",
        "caf\xe9",
        '"unterminated',
        '"a"b"',
        '"a\\b"',
        '""',
    ],
)
def test_a_malformed_key_is_400_and_runs_nothing(world, case_in, key):
    case = case_in("draft")
    response = as_user(world.official).post(
        case_url(case, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_invalid" and "Idempotency-Key" in error["fields"]
    case.refresh_from_db()
    assert case.state == "draft" and not IdempotentRequest.objects.exists()


def test_a_quoted_key_is_the_same_key_as_bare(world, case_in):
    """The draft writes the key as a structured-field string; both spellings are one key."""
    case = case_in("draft")
    client = as_user(world.official)
    first = client.post(case_url(case, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY='"k-1"')
    again = client.post(case_url(case, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert IdempotentRequest.objects.get().key == "k-1"
    longest = "x" * 255
    assert idempotency.key_of(_Meta({"HTTP_IDEMPOTENCY_KEY": longest})) == longest
    assert idempotency.key_of(_Meta({"HTTP_IDEMPOTENCY_KEY": r'"a\"b\\c"'})) == 'a"b\\c'


def raise_body(world, title: str = "路灯不亮") -> dict:
    return {
        "community": world.community.pk,
        "title": title,
        "template": world.template.pk,
        "answers": {"stall_count": 3, "goods": "果蔬"},
        "invitees": [{"department": world.dept_a.pk, "person": world.staff_a.pk}],
    }


class _Meta:
    def __init__(self, meta: dict) -> None:
        self.META = meta


def test_a_refused_write_keeps_nothing_and_the_fixed_retry_runs(world, case_in):
    """A 400 changed nothing: the phone may fix the body and send it with the same key."""
    case = case_in("pending_review")
    client = as_user(world.commander)
    url = case_url(case, "send_back")
    refused = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert refused.status_code == 400 and not IdempotentRequest.objects.exists()
    fixed = client.post(url, {"reason": "补充材料"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert fixed.status_code == 200 and "Idempotent-Replayed" not in fixed
    assert fixed.json()["state"] == "draft"


def test_a_refusal_by_state_is_not_replayed_either(world, case_in):
    case = case_in("draft")
    client = as_user(world.official)
    refused = client.post(case_url(case, "complete"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"
    assert not IdempotentRequest.objects.exists()


def test_keys_belong_to_one_person(world, case_in):
    """Two phones that happen to pick the same key do not see each other's answers."""
    url = reverse("api:case-list")
    body = raise_body(world)
    mine = as_user(world.official).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    deputy = UserFactory(username="deputy", name="副书记")
    grant(deputy, Role.VILLAGE_OFFICIAL, area=world.community)
    theirs = as_user(deputy).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs
    assert Case.objects.count() == 2


def test_the_same_key_on_another_endpoint_is_409(world, case_in):
    first, second = case_in("draft"), case_in("draft")
    client = as_user(world.official)
    assert (
        client.post(case_url(first, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    ).status_code == 200
    other = client.post(case_url(second, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    second.refresh_from_db()
    assert second.state == "draft"


def test_an_expired_key_runs_again_and_is_purged(world, case_in, settings):
    settings.JINSHAO_IDEMPOTENCY_KEY_HOURS = 24
    client = as_user(world.official)
    url = reverse("api:case-list")
    body = raise_body(world)
    client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="fresh")
    day_ago = timezone.now() - timedelta(hours=24, seconds=1)
    IdempotentRequest.objects.filter(key="old").update(created_at=day_ago)

    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Case.objects.count() == 3
    assert IdempotentRequest.objects.filter(key="old").get().created_at > day_ago

    IdempotentRequest.objects.filter(key="old").update(created_at=day_ago)
    assert purge_expired.apply().get() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["fresh"]
    IdempotentRequest.objects.update(created_at=day_ago)
    call_command("purge_idempotency_keys")
    assert not IdempotentRequest.objects.exists()


def test_the_purge_runs_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "idempotency.purge_expired" in tasks


def test_an_effect_and_its_kept_answer_commit_together(world, case_in, monkeypatch):
    """If keeping the answer fails, the effect is undone too: never an effect without its
    record (a retry would make it twice)."""
    case = case_in("draft")

    def broken(row, **answer):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(idempotency_services, "complete", broken)
    client = as_user(world.official)
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        client.post(case_url(case, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    case.refresh_from_db()
    assert case.state == "draft" and not case.events.filter(kind="submitted").exists()
    assert not IdempotentRequest.objects.exists()


def test_an_oversized_keyed_body_is_refused_before_it_is_read(world, case_in, settings):
    """Reading it would spool every byte (an upload) to find its digest."""
    settings.JINSHAO_UPLOAD_LIMITS = {"image": 1024}  # so at most 1 KiB + 64 KiB of form
    response = as_user(world.official).post(
        reverse("api:case-list"),
        {"community": world.community.pk, "title": "x" * 70 * 1024},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not IdempotentRequest.objects.exists()
