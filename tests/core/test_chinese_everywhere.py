"""A person never meets English or a Python repr unless they asked for English.

A crawl of every back-office page (index, every list, add page, one change page
of each model, the dashboard, imports and exports) as every role of the world,
the three administrators and a superuser, and of the API's error answers, with
the default language; the visible text must hold no English word and no repr.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from accounts.models import User
from tests.core.test_admin import populated  # noqa: F401  (a row of every registered model)
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

#: Words that are no translation fault: names, codes and units a Chinese reader uses as is.
ALLOWED_WORDS = {
    "Jinshao",
    "API",
    "JSON",
    "CSRF",
    "xlsx",
    "XLSX",
    "csv",
    "CSV",
    "TOTP",
    "IP",
    "ID",
    "HTTP",
    "Unix",
    "http",  # the protocols, named in a help text
    "https",
    "DELETE",  # an HTTP method named in a refusal
    "Control",  # keys on the keyboard, in Django's own help text
    "Command",
    "Mac",
    "GeoJSON",  # a file format, and the keys of its example in the boundary's help text
    "WGS",
    "type",
    "Polygon",
    "coordinates",
}

# A run of letters that is not part of a code, an address, a path or a masked value.
_WORD = re.compile(r"(?<![A-Za-z0-9_@./*-])[A-Za-z]{2,}(?![A-Za-z0-9_@/*-])")
_URL = re.compile(r"\b[a-z]+://\S+")
_REPRS = ("ErrorDetail(", "{'", "[<", "<class ", " object at 0x", "gettext(")
_SKIPPED_TAGS = {"script", "style", "template"}
_READ_ATTRIBUTES = {"title", "placeholder", "aria-label"}


class _VisibleText(HTMLParser):
    """The text a person reads: element text, plus titles, placeholders, labels and the
    captions of buttons; no scripts, styles or other attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        values = dict(attrs)
        for name in _READ_ATTRIBUTES & values.keys():
            self.parts.append(values[name] or "")
        if tag in ("input", "button") and values.get("type") in ("submit", "button", "reset"):
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag):
        if tag in _SKIPPED_TAGS and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return [" ".join(part.split()) for part in parser.parts if part.strip()]


def untranslated(texts: list[str], allowed: set[str]) -> list[str]:
    """The pieces of ``texts`` holding an English word or a Python repr."""
    found = []
    for text in texts:
        words = set(_WORD.findall(_URL.sub(" ", text))) - allowed
        words = {w for w in words if not _cut_short(text, w, allowed)}
        if words or any(mark in text for mark in _REPRS):
            found.append(text)
    return found


def _cut_short(text: str, word: str, allowed: set[str]) -> bool:
    """A data word the page cut at its end ("Connection" shown as "Con")."""
    return text.endswith(word) and any(a.startswith(word) for a in allowed)


def _names_in_data() -> set[str]:
    """Usernames and the codes people gave things (departments, rating criteria, template
    fields, external systems, background tasks) are data typed as is, not a translation fault."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from core.models import FailedTask
    from departments.models import Department
    from integrations.models import ExternalSystem, OutboundMessage
    from ratings.models import Criterion
    from templates.models import TemplateField

    typed = [
        *User.objects.values_list("username", flat=True),
        *Department.objects.values_list("code", flat=True),
        *Criterion.objects.values_list("code", flat=True),
        *TemplateField.objects.values_list("key", flat=True),
        *ExternalSystem.objects.values_list("code", flat=True),
        *FailedTask.objects.values_list("name", flat=True),
        # recorded as it happened: errors of background work and deliveries, and the
        # request django-axes saw (path, GET and POST data)
        *FailedTask.objects.values_list("error", flat=True),
        *OutboundMessage.objects.values_list("last_error", flat=True),
        *AccessAttempt.objects.values_list("path_info", "get_data", "post_data").iterator(),
        *AccessFailureLog.objects.values_list("path_info", flat=True),
        *AccessLog.objects.values_list("path_info", flat=True),
    ]
    texts = [" ".join(item) if isinstance(item, tuple) else item for item in typed]
    return {word for text in texts for word in re.split(r"[^A-Za-z]+", text) if word}


# ------------------------------------------------------------------ the back office


def _people(world) -> dict[str, User]:
    people = world.users()
    for role in (Role.SECADMIN, Role.AUDITADMIN):
        person = UserFactory(username=f"{role}_person", name="管理员")
        grant(person, role)
        people[str(role)] = person
    for person in people.values():  # every one may open the back office
        person.is_staff = True
        person.save(update_fields=["is_staff"])
    return people


def _admin_pages() -> list[str]:
    pages = [reverse("admin:index"), reverse("analytics-dashboard")]
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda kv: kv[0]._meta.label
    ):
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages += [reverse(f"{info}_changelist"), reverse(f"{info}_add")]
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            pages.append(reverse(f"{info}_change", args=[obj.pk]))
        if hasattr(model_admin, "export_action"):
            pages.append(reverse(f"{info}_export"))
        if hasattr(model_admin, "import_action"):
            pages.append(reverse(f"{info}_import"))
    return pages


def _crawl(client: Client, pages: list[str], allowed: set[str]) -> dict[str, list[str]]:
    findings: dict[str, list[str]] = {}
    for page in pages:
        response = client.get(page, follow=True)
        assert response.status_code in (200, 403, 404), (page, response.status_code)
        found = untranslated(visible_text(response.content.decode()), allowed)
        if found:
            findings[page] = found
    return findings


def test_every_back_office_page_speaks_chinese_to_every_role(populated):  # noqa: F811
    people = _people(populated)
    pages = _admin_pages()
    clients = {}
    for name, person in people.items():
        clients[name] = Client()
        clients[name].force_login(person)
    allowed = ALLOWED_WORDS | _names_in_data()  # after the log-ins they record
    findings: dict[str, dict[str, str]] = {}
    for name, client in clients.items():
        for page, found in _crawl(client, pages, allowed).items():
            findings.setdefault(page, {}).update(dict.fromkeys(found, name))
    assert findings == {}, json.dumps(findings, ensure_ascii=False, indent=1)


def test_the_log_in_pages_speak_chinese(world):
    allowed = ALLOWED_WORDS | _names_in_data()
    client = Client()
    pages = [
        client.get(reverse("admin:login")),
        client.post(reverse("admin:login"), {"username": "root", "password": "wrong-Pass-99"}),
        client.post(reverse("admin:login"), {"username": "official", "password": "x"}),
    ]
    found = [untranslated(visible_text(page.content.decode()), allowed) for page in pages]
    assert found == [[], [], []]


def test_a_person_without_back_office_access_is_told_so(world):
    world.official.set_password("Right-Pass-2024")
    world.official.save()
    page = Client().post(
        reverse("admin:login"), {"username": "official", "password": "Right-Pass-2024"}
    )
    text = page.content.decode()
    assert "此账号没有后台权限" in text
    assert "请输入一个正确的工作人员账户" not in text
    wrong = Client().post(reverse("admin:login"), {"username": "official", "password": "bad-1"})
    assert "此账号没有后台权限" not in wrong.content.decode()  # a wrong password says nothing


def test_every_back_office_refusal_and_404_speaks_chinese(world):
    allowed = ALLOWED_WORDS | _names_in_data()
    client = Client()
    client.force_login(world.superuser)
    missing = client.get("/admin/no-such-page/", follow=True)
    world.stranger.is_staff = True
    world.stranger.save(update_fields=["is_staff"])
    refused = Client()
    refused.force_login(world.stranger)
    forbidden = refused.get(reverse("analytics-dashboard"), follow=True)
    no_token = Client(enforce_csrf_checks=True).post(reverse("admin:login"), {"username": "root"})
    assert (missing.status_code, forbidden.status_code, no_token.status_code) == (404, 403, 403)
    for response in (missing, forbidden, no_token):
        assert untranslated(visible_text(response.content.decode()), allowed) == []


# ------------------------------------------------------------------ the API's errors


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for key, item in value.items() if key != "code" for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [str(value)]


def _api_errors(world) -> list:
    from rest_framework_simplejwt.tokens import RefreshToken

    anonymous = Client()
    stranger = Client()
    stranger.force_login(world.stranger)
    official = Client()
    official.force_login(world.official)
    no_token = Client(enforce_csrf_checks=True)  # a browser's session, no CSRF token
    no_token.force_login(world.official)
    ended = RefreshToken.for_user(world.official)
    ended.blacklist()
    token = reverse("api:token")
    answers = [
        (401, anonymous.get(reverse("api:me"))),
        (401, anonymous.post(token, {"username": "official", "password": "wrong"})),
        (401, anonymous.get(reverse("api:me"), HTTP_AUTHORIZATION="Bearer not-a-token")),
        (401, anonymous.post(reverse("api:token-refresh"), {"refresh": "not-a-token"})),
        (401, anonymous.post(reverse("api:token-refresh"), {"refresh": str(ended)})),
        (400, anonymous.post(token, {})),
        (403, stranger.get(reverse("api:analytics-overview"))),
        (404, official.get("/api/v1/cases/999999/")),
        (404, official.get("/api/v1/no-such-thing/")),
        (404, anonymous.get("/api/no-such-thing/")),
        (404, no_token.post("/api/v1/cases/-1/messages/", {})),  # no route: no CSRF page
        (403, no_token.post(reverse("api:logout"), {})),
        (405, official.delete(reverse("api:me"))),
    ]
    for attempt in range(30):  # distinct names: the address throttle, not the lock-out
        last = anonymous.post(token, {"username": f"nobody{attempt}", "password": "x"})
        if last.status_code == 429:
            break
    answers.append((429, last))
    return answers


@pytest.mark.parametrize("debug", [False, True])
def test_every_api_error_speaks_chinese_in_the_one_shape(world, settings, debug):
    settings.DEBUG = debug
    allowed = ALLOWED_WORDS | _names_in_data()
    for status, response in _api_errors(world):
        assert response.status_code == status, (status, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), response.content[:300]
        body = json.loads(response.content)
        assert set(body) == {"error"}, body
        assert untranslated(_strings(body["error"]), allowed) == [], body


# ------------------------------------------------------------------ the index, the tab icon


def test_the_index_leads_with_cases_and_ends_with_the_technical_tables(world):
    client = Client()
    client.force_login(world.superuser)
    apps = client.get(reverse("admin:index")).context["app_list"]
    labels = [app["app_label"] for app in apps]
    assert labels[0] == "cases"
    assert labels.index("templates") < labels.index("accounts") < labels.index("axes")
    assert labels[-1] == "core"
    names = {app["app_label"]: str(app["name"]) for app in apps}
    for label in ("axes", "otp_static", "otp_totp", "token_blacklist"):
        assert not re.search("[A-Za-z]", names[label]), names[label]


def test_the_browser_tab_icon_is_served():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
