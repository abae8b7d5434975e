"""Text PostgreSQL refuses (a NUL, an unpaired surrogate) is refused at every way in, with 400.

SQLite stores a NUL and PostgreSQL does not (``DataError``: a 500), so these
tests matter most in CI's second pass, on PostgreSQL, where they run unmarked.
The API is walked from its own published schema (``/api/schema/``): every
operation that takes a body gets a NUL (and, in JSON, an unpaired surrogate)
in each of its text fields, nested ones included; every query parameter and
path parameter gets a NUL. Each answer must be 400 ``invalid_characters``
naming the field, and no row of any table may change.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditRecord
from cases import services as case_services
from cases.models import Case
from core.text import RefusedCharacters, find_refused_characters, scrub
from integrations.choices import DeliveryOutcome
from integrations.models import AreaMapping, CategoryMapping, Delivery, ExternalSystem
from integrations.services import parse_platform_case, sign, take_in
from templates.services import validate_answers
from tests.api.client import as_user
from tests.conftest import make_case
from tests.factories import TemplateFieldFactory

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "占\x00道", "占\ud800道"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SECRET = "platform-shared-secret-0123456789"


@pytest.fixture
def no_throttles(monkeypatch):
    """The walk sends hundreds of writes; throttles have their own tests."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login": "100000/min", "writes": "100000/min"}
    )


def row_counts() -> dict[str, int]:
    """Rows in every table; audit rows of reads (a case page's phone numbers) aside."""
    counts = {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }
    counts["audit.AuditRecord"] = AuditRecord.objects.exclude(action="personal_data.view").count()
    return counts


def refused_as(response, field: str) -> str | None:
    """None if ``response`` is the refusal naming ``field``; else what it was instead."""
    if response.status_code != 400:
        return f"{response.status_code} {response.content[:200]!r}"
    error = response.json()["error"]
    if error["code"] != "invalid_characters" or field not in error["fields"]:
        return f"400 {error}"
    return None


def answered(call) -> Any:
    """``call()``'s response, inside a savepoint rolled back after a 500, so that one
    server error (PostgreSQL aborts the transaction) does not hide the next answers."""
    with transaction.atomic():
        response = call()
        if response.status_code >= 500:
            transaction.set_rollback(True)
    return response


# ------------------------------------------------------------------ the finder


def test_the_finder_names_the_path_of_the_first_refused_text():
    assert find_refused_characters({"title": "好", "answers": {"n": 3, "goods": ["果蔬"]}}) is None
    assert find_refused_characters({"answers": {"goods": ["果蔬", NUL]}}) == "answers.goods.1"
    assert find_refused_characters({"ratings": [{"comment": SURROGATE}]}) == "ratings.0.comment"
    assert find_refused_characters({"answers": {"k\x00": 1}}) == "answers.k\ufffd"
    assert find_refused_characters(QueryDict("page=2&q=a%00")) == "q"
    assert find_refused_characters("a\udfffb", "text") == "text"
    assert find_refused_characters(["\ufffd", "正常", 1.5, None, True]) is None
    assert scrub("a\x00b\ud800") == "a\ufffdb\ufffd"


# ------------------------------------------------------------------ the API, walked from its schema


def _resolve(node: dict, schema: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    for key in ("allOf", "oneOf", "anyOf"):
        if key in node:
            return _resolve(node[key][0], schema)
    return node


def text_fields(node: dict, schema: dict, depth: int = 0) -> list[list]:
    """Every place a text can be sent in a body of this shape, as key paths (0: a list item)."""
    node = _resolve(node, schema)
    if node.get("readOnly") or depth > 6:
        return []
    kind = node.get("type")
    if kind == "string" and node.get("format") != "binary":
        return [[]]
    if kind == "array":
        return [[0, *path] for path in text_fields(node.get("items", {}), schema, depth + 1)]
    if kind == "object" or "properties" in node:
        paths = [
            [name, *path]
            for name, prop in node.get("properties", {}).items()
            for path in text_fields(prop, schema, depth + 1)
        ]
        if not node.get("properties"):  # a free-form object (template answers): any key
            paths.append(["goods"])
        return paths
    return []


def nested(path: list, leaf: str) -> Any:
    if not path:
        return leaf
    head, *rest = path
    return [nested(rest, leaf)] if isinstance(head, int) else {head: nested(rest, leaf)}


@pytest.fixture
def targets(world) -> dict[str, int]:
    """Path prefix → the id of a real object there, so each operation reaches its body."""
    case = make_case(world, "in_progress", invite=("staff_a",))
    order = case_services.issue_supervision_order(
        case, actor=world.leader, instruction="请加快", due_at=timezone.now() + timedelta(days=1)
    )
    extension = case_services.request_extension(
        case, actor=world.staff_a, reason="需要协调", until=timezone.now() + timedelta(days=9)
    )
    system = ExternalSystem.objects.create(code="ywtg", name="平台", source="grid_platform")
    review = take_in(
        system,
        parse_platform_case(
            system, {"external_id": "P1", "category_code": "X", "area_code": "Y", "title": "占道"}
        ),
    ).review
    assert review is not None
    return {
        "/api/v1/cases/": case.pk,
        "/api/v1/invitations/": case.invitations.get().pk,
        "/api/v1/supervision-orders/": order.pk,
        "/api/v1/extensions/": extension.pk,
        "/api/v1/intake-reviews/": review.pk,
        "/api/v1/notifications/": 1,
        "/api/v1/templates/": world.template.pk,
        "/api/v1/departments/": world.dept_a.pk,
        "/api/v1/areas/": world.community.pk,
    }


def filled(template: str, targets: dict[str, int]) -> str:
    prefix = next((p for p in targets if template.startswith(p)), None)
    return re.sub(r"\{\w+\}", lambda _m: str(targets.get(prefix or "", 1)), template)


def published_schema(client) -> dict:
    response = client.get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def send(client, method: str, url: str, body: Any, media: str):
    if media == "application/json":  # escaped as a phone's JSON library escapes
        data, media_type = json.dumps(body), media
    elif media == "multipart/form-data":
        return getattr(client, method)(url, body, format="multipart")
    else:
        data, media_type = urlencode(body), media
    return client.generic(method.upper(), url, data, content_type=media_type)


def test_every_body_of_the_api_refuses_refused_text_in_every_field(world, targets, no_throttles):
    client = as_user(world.superuser)
    client.raise_request_exception = False
    schema = published_schema(client)
    before, failures, sent = row_counts(), [], 0
    for template, operations in schema["paths"].items():
        if "/intake/" in template:  # signed: tested below, with a signature
            continue
        for method, operation in operations.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                for path in text_fields(content.get("schema", {}), schema):
                    if media in FORM_TYPES and len(path) != 1:
                        continue  # a form has no nesting
                    field = ".".join(str(key) for key in path)
                    for bad in (NUL,) if media in FORM_TYPES else (NUL, SURROGATE):
                        url = filled(template, targets)
                        response = answered(
                            partial(send, client, method, url, nested(path, bad), media)
                        )
                        sent += 1
                        wrong = refused_as(response, field)
                        if wrong:
                            failures.append(f"{method.upper()} {template} {media} {field}: {wrong}")
    assert not failures, "\n".join(failures)
    assert sent > 100  # the walk reached the API's bodies
    assert row_counts() == before


def test_every_query_and_path_parameter_of_the_api_refuses_a_nul(world, targets):
    client = as_user(world.superuser)
    client.raise_request_exception = False
    schema = published_schema(client)
    before, failures, sent = row_counts(), [], 0
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                name, where = parameter["name"], parameter["in"]
                if where == "query":
                    url = f"{filled(template, targets)}?{urlencode({name: NUL})}"
                    field = name
                elif where == "path":
                    url = template.replace("{" + name + "}", "x%00")
                    url = filled(url, targets)
                    field = "path"
                else:
                    continue
                response = answered(partial(client.generic, method.upper(), url))
                sent += 1
                wrong = refused_as(response, field)
                if wrong:
                    failures.append(f"{method.upper()} {url}: {wrong}")
    assert not failures, "\n".join(failures)
    assert sent > 40
    assert row_counts() == before


def test_nested_template_answers_are_refused_by_field_and_nothing_is_made(world):
    client = as_user(world.official)
    client.raise_request_exception = False
    body = {
        "title": "路口占道经营",
        "community": world.community.pk,
        "template": world.template.pk,
        "answers": {"stall_count": 3, "goods": "果蔬\x00"},
    }
    response = client.post(reverse("api:case-list"), body, format="json")
    assert refused_as(response, "answers.goods") is None
    assert response.json()["error"]["message"]
    body["answers"] = {"goods\ud800": "果蔬"}
    response = client.post(
        reverse("api:case-list"), json.dumps(body), content_type="application/json"
    )
    assert refused_as(response, "answers.goods\ufffd") is None
    assert not Case.objects.exists()


def test_a_search_with_a_nul_is_refused_not_a_server_error(world):
    make_case(world, "dispatched")
    client = as_user(world.commander)
    client.raise_request_exception = False
    response = client.get(reverse("api:case-list"), {"q": "占道\x00"})
    assert refused_as(response, "q") is None
    assert client.get(reverse("api:case-list"), {"q": "占道"}).status_code == 200


def test_a_back_office_search_with_a_nul_is_a_plain_400(admin_client):
    admin_client.raise_request_exception = False
    response = admin_client.get(reverse("admin:cases_case_changelist"), {"q": "占道\x00"})
    assert response.status_code == 400
    assert response.content.decode().strip()  # a sentence, not a server error page


def test_answers_typed_in_the_back_office_are_refused_on_the_form(client, world):
    """The raise form asks the template's questions one field each (``answer_<key>``)."""
    TemplateFieldFactory(template=world.template, key="note", label="备注", kind="text")
    client.force_login(world.superuser)
    client.raise_request_exception = False
    response = client.post(
        reverse("admin:cases_case_add"),
        {
            "community": world.community.pk,
            "title": "占道",
            "template": world.template.pk,
            "answers_for": world.template.pk,
            "answer_note": "路口\x00",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["answer_note"]
    assert not Case.objects.exists()


def test_answers_arriving_any_other_way_are_refused_by_the_one_validator(world):
    """Imports and Open311 reach ``validate_answers`` without the API's parsers."""
    TemplateFieldFactory(template=world.template, key="note", label="备注", kind="text")
    with pytest.raises(RefusedCharacters) as refused:
        validate_answers(world.template, {"note": "路口\x00"}, require_all=False)
    assert refused.value.code == "invalid_characters" and list(refused.value.fields) == ["note"]


# ------------------------------------------------------------------ the signed intake


@pytest.fixture
def platform(world) -> ExternalSystem:
    system = ExternalSystem.objects.create(
        code="ywtg", name="一网统管平台", source="grid_platform", secret=SECRET
    )
    CategoryMapping.objects.create(system=system, external_code="C-0101", template=world.template)
    AreaMapping.objects.create(system=system, external_code="A-77", community=world.community)
    return system


def post_signed(client, system: ExternalSystem, body: bytes):
    stamp = str(int(time.time()))
    client.raise_request_exception = False
    return client.post(
        reverse("api:intake-cases", args=[system.code]),
        data=body,
        content_type="application/json",
        HTTP_X_JINSHAO_TIMESTAMP=stamp,
        HTTP_X_JINSHAO_SIGNATURE=sign(SECRET, stamp, body),
    )


def platform_case(**overrides) -> dict:
    return {
        "external_id": "WG2026-000123",
        "category_code": "C-0101",
        "area_code": "A-77",
        "title": "南桥路口占道经营",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"answers": {"goods": "果蔬\x00"}}, "answers.goods"),
        ({"title": SURROGATE}, "title"),
        ({"external_id": "WG\x00"}, "external_id"),
        ({"address": "南桥路\x00"}, "address"),
    ],
)
def test_intake_refuses_refused_text_and_logs_the_attempt(platform, overrides, field):
    response = post_signed(APIClient(), platform, json.dumps(platform_case(**overrides)).encode())
    assert refused_as(response, field) is None
    assert not Case.objects.exists()
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.status_code, delivery.error_code) == (
        DeliveryOutcome.REFUSED,
        400,
        "invalid_characters",
    )
    assert find_refused_characters([delivery.body, delivery.external_id]) is None


def test_intake_logs_a_body_with_a_raw_nul_byte(platform):
    response = post_signed(APIClient(), platform, b'{"external_id": "WG1"}\x00')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    delivery = Delivery.objects.get()
    assert delivery.outcome == DeliveryOutcome.REFUSED
    assert delivery.body == '{"external_id": "WG1"}\ufffd'
