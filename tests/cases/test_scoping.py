"""One way to read a case's rows, one definition of the case's people, one phone rule.

Every model owned by a case (found by introspection, so a new one is caught)
has its own ``visible_to``; every API view and admin page over it is built on
the base that applies it (``core.api.viewsets.ScopedViewSetMixin``,
``core.admin.ScopedAdminMixin``) and answers only rows of the cases the asker
may see. The case's people are the caller, the commanders over it and those
whose invitation is accepted now: people who declined, were withdrawn or
returned the case are not, so they neither see whole phone numbers nor sit in
its room. The admin and the API agree on who sees whole phones.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.choices import Role
from cases import permissions, services
from cases.choices import InvitationState, StepKind
from cases.models import (
    Case,
    ExtensionRequest,
    Invitation,
    PhotoUpload,
    SupervisionOrder,
    SupervisionStep,
)
from chat import selectors as room
from chat.models import Attachment, Message, ReadState
from core.admin import ScopedAdminMixin
from core.api.viewsets import ScopedViewSetMixin
from core.masking import mask_phone, may_see_whole_phones
from departments.admin import StaffMembershipAdmin
from departments.models import StaffMembership
from integrations.models import (
    Delivery,
    ExternalCase,
    ExternalSystem,
    IntakeReview,
    OutboundAttempt,
    OutboundMessage,
)
from notifications.choices import NotificationKind
from notifications.models import Notification
from ratings.models import Rating, Score
from ratings.services import rate_department
from tests.api.client import as_user, case_url
from tests.factories import MembershipFactory, UserFactory, grant

pytestmark = pytest.mark.django_db

#: Models pointing at a case without belonging to it (the pointer may be empty): each is
#: scoped by its own rule, named here so that a new pointer to a case is a decision.
NOT_CASE_OWNED = {
    Delivery: "the log of every inbound request, refusals included; integration admins only",
    IntakeReview: "the review queue before a case exists (integrations.selectors)",
    PhotoUpload: "its uploader's until a case names it, then read through the case's "
    "visible_to (cases.api.uploads)",
}

#: Plain API views (no queryset to introspect). Those reading a case's rows are checked
#: over HTTP below; the others read no case rows one by one.
PLAIN_API_VIEWS = {
    "MessageListView": "case rows: checked below",
    "ReadMarkView": "case rows: checked below",
    "AttachmentView": "case rows: checked below",
    "LoginView": "logging in",
    "SessionLoginView": "logging in (the phone app's session)",
    "RefreshView": "the asker's own token",
    "LogoutView": "the asker's own token",
    "PasswordChangeView": "the asker's own account",
    "MeView": "the asker's own account",
    "SocketTicketView": "the asker's own ticket",
    "OverviewView": "aggregates (analytics.scope)",
    "CategoriesView": "aggregates (analytics.scope)",
    "AreasView": "aggregates (analytics.scope)",
    "TimelinessView": "aggregates (analytics.scope)",
    "DepartmentsView": "aggregates (analytics.scope)",
    "ExportView": "auditors' exports (analytics.scope)",
    "TemplateSuggestionsView": "aggregates (analytics.scope)",
    "MapView": "aggregates per area (analytics.scope)",
    "DensityView": "counts per grid cell (analytics.scope)",
    "TrendView": "counts per period (analytics.scope)",
    "DistributionsView": "histograms of times (analytics.scope)",
    "ChartExportView": "a chart's aggregates as xlsx (analytics.scope)",
    "IntakeView": "the signed intake of other systems (writes only)",
    "SpectacularAPIView": "the schema",
    "SpectacularSwaggerView": "the schema's page",
}


def case_owned_models() -> dict[type[models.Model], str]:
    """Model → lookup path to its case, for every model with a non-null foreign key to
    ``Case``, directly or through another such model."""
    owned: dict[type[models.Model], str] = {Case: ""}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model in owned:
                continue
            for field in model._meta.get_fields():
                target = field.related_model
                if field.concrete and field.is_relation and not field.null and target in owned:
                    rest = owned[target]  # type: ignore[index]
                    owned[model] = f"{field.name}__{rest}" if rest else field.name
                    changed = True
                    break
    del owned[Case]
    return owned


def case_ids(queryset, path: str) -> set[int]:
    return set(queryset.values_list(f"{path}__pk" if path else "pk", flat=True))


def closed_case(world, caller, community, person) -> Case:
    """A case of ``caller`` in ``community``, worked by ``person`` and rated."""
    department = person.memberships.get().department
    case = services.create_case(
        actor=caller,
        community=community,
        title=f"{community.name}的案件",
        template=world.template,
        invitees=[(department, person)],
    )
    services.submit_case(case, actor=caller)
    services.approve_case(case, actor=world.commander)
    services.accept_invitation(case.invitations.get(), actor=person)
    case.refresh_from_db()
    services.complete_case(case, actor=caller)
    rate_department(case, actor=caller, department=department, scores={"result": 90, "conduct": 80})
    case.refresh_from_db()
    return case


def give_every_row(world, case: Case, system: ExternalSystem) -> None:
    """At least one row of every case-owned model for ``case`` (the caller's where personal)."""
    now = timezone.now()
    person = case.invitations.get().person
    SupervisionStep.objects.create(case=case, kind=StepKind.OVERDUE, due_at=now)
    SupervisionOrder.objects.create(
        case=case, issued_by=world.grid_leader, instruction="限期办结", due_at=now
    )
    ExtensionRequest.objects.create(
        case=case, requested_by=person, reason="材料未齐", requested_deadline=now + timedelta(1)
    )
    attachment = Attachment.objects.create(
        case=case,
        uploader=case.caller,
        kind="file",
        file=SimpleUploadedFile("note.txt", b"hello"),
        content_type="text/plain",
        size=5,
    )
    Message.objects.create(case=case, kind="file", sender=case.caller, attachment=attachment)
    Message.objects.create(case=case, kind="text", sender=case.caller, text="到了")
    ReadState.objects.get_or_create(case=case, user=case.caller)
    Notification.objects.get_or_create(
        recipient=case.caller, kind=NotificationKind.INVITED, event=case.events.first(), case=case
    )
    ExternalCase.objects.create(system=system, external_id=f"X{case.pk}", case=case)
    outbound = OutboundMessage.objects.create(system=system, case=case, payload={})
    OutboundAttempt.objects.create(message=outbound, status_code=200)


@pytest.fixture
def two_cases(world, settings, tmp_path):
    """Case A (the official's, in their community) and B (another community's).

    The official may see A and not B.
    """
    settings.MEDIA_ROOT = tmp_path / "media"
    system = ExternalSystem.objects.create(
        code="ywtg", name="一网统管平台", source="grid_platform", secret="s" * 32
    )
    a = closed_case(world, world.official, world.community, world.staff_a)
    b = closed_case(world, world.other_official, world.other_community, world.staff_b)
    for case in (a, b):
        give_every_row(world, case, system)
    visible = set(Case.objects.visible_to(world.official).values_list("pk", flat=True))
    assert a.pk in visible and b.pk not in visible
    return a, b


def test_every_case_owned_model_has_its_own_scoped_queryset(world, two_cases):
    a, b = two_cases
    owned = case_owned_models()
    pointing = {
        m
        for m in apps.get_models()
        for f in m._meta.get_fields()
        if f.concrete and f.is_relation and f.related_model is Case
    }
    assert pointing - set(owned) == set(NOT_CASE_OWNED), "a new pointer to Case: scope it"
    assert {Rating, Score, Message, Attachment, Invitation, OutboundAttempt} <= set(owned)
    for model, path in owned.items():
        assert hasattr(model.objects.all(), "visible_to"), model
        everyone = model.objects.all()
        assert case_ids(everyone, path) >= {a.pk, b.pk}, f"no rows of {model} to test with"
        assert case_ids(model.objects.visible_to(world.official), path) == {a.pk}, model
        assert not model.objects.visible_to(world.stranger).exists(), model


def api_views():
    """(route, view callback) of every DRF view under the URL configuration."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
                yield prefix + str(pattern.pattern), pattern.callback

    seen = set()
    for route, callback in walk(get_resolver().url_patterns):
        if callback.cls not in seen:
            seen.add(callback.cls)
            yield route, callback


def test_every_api_view_over_case_rows_applies_the_scope_once(world, two_cases):
    a, b = two_cases
    owned = {Case: "", **case_owned_models()}
    checked = set()
    for route, callback in api_views():
        cls = callback.cls
        reads_rows = issubclass(cls, GenericAPIView) and (
            cls.queryset is not None or cls.get_queryset is not GenericAPIView.get_queryset
        )
        if not reads_rows:
            assert cls.__name__ in PLAIN_API_VIEWS, f"{route}: a new plain view, review its scope"
            continue
        request = Request(APIRequestFactory().get("/"))
        request.user = world.official
        view = cls(**getattr(callback, "initkwargs", {}))
        view.request, view.args, view.kwargs, view.format_kwarg = request, (), {}, None
        view.action = next(iter(getattr(callback, "actions", {}).values()), "list")
        queryset = view.get_queryset()
        if queryset.model not in owned:
            continue
        assert isinstance(view, ScopedViewSetMixin), f"{route} is not built on the scoped base"
        assert case_ids(queryset, owned[queryset.model]) == {a.pk}, route
        checked.add(queryset.model)
    assert {Case, Invitation, SupervisionOrder, ExtensionRequest, Notification} <= checked


def test_case_rows_of_an_unseen_case_are_404_on_every_endpoint(world, two_cases):
    a, b = two_cases
    client = as_user(world.official)
    for case, expected in ((a, 200), (b, 404)):
        urls = [case_url(case)] + [
            case_url(case, name)
            for name in ("invitations", "events", "supervision-orders", "extensions", "ratings")
        ]
        urls += [
            reverse("api:case-messages", args=[case.pk]),
            reverse("api:invitation-detail", args=[case.invitations.get().pk]),
            reverse("api:supervision-order-detail", args=[case.supervision_orders.get().pk]),
            reverse("api:extension-detail", args=[case.extension_requests.get().pk]),
            reverse("api:message-attachment", args=[case.messages.get(kind="file").pk]),
        ]
        for url in urls:
            assert client.get(url).status_code == expected, url
        read = client.post(
            reverse("api:case-messages-read", args=[case.pk]), {"up_to": 0}, format="json"
        )
        assert read.status_code == expected
    inbox = client.get(reverse("api:notification-list")).data["results"]
    assert {n["case"]["id"] for n in inbox} == {a.pk}


def test_every_admin_page_over_case_rows_lists_only_the_readers_cases(client, world, two_cases):
    a, b = two_cases
    owned = case_owned_models()
    request = RequestFactory().get("/admin/")
    request.user = world.official
    registered = [(m, ma) for m, ma in admin.site._registry.items() if m in owned]
    assert {Invitation, Message, Rating, Notification, ExternalCase} <= {m for m, _ in registered}
    for model, model_admin in registered:
        assert isinstance(model_admin, ScopedAdminMixin), f"{model} admin is not scoped"
        assert case_ids(model_admin.get_queryset(request), owned[model]) == {a.pk}, model
    for model_admin in admin.site._registry.values():
        for inline in model_admin.inlines:
            if inline.model in owned:
                assert issubclass(inline, ScopedAdminMixin), inline

    # The changelists themselves, for a reader with admin access and every view permission.
    world.official.is_staff = True
    world.official.save(update_fields=["is_staff"])
    world.official.user_permissions.add(
        *Permission.objects.filter(codename__startswith="view_", content_type__app_label="chat")
    )
    client.force_login(world.official)
    for model in (Case, Invitation, SupervisionOrder, ExtensionRequest, Message, Attachment):
        opts = model._meta
        page = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert page.status_code == 200, model
        assert a.number in page.content.decode() and b.number not in page.content.decode()


# ------------------------------------------------------------- the case's people


def _ended(world, case, how: str):
    """``staff_b``'s part in ``case`` ends ``how`` (declined, withdrawn, returned)."""
    invitation = case.invitations.get(person=world.staff_b)
    if how == "declined":
        services.decline_invitation(invitation, actor=world.staff_b, reason="不归我局管")
    elif how == "withdrawn":
        services.withdraw_invitation(invitation, actor=world.official, reason="邀错了人")
    else:
        services.return_case(case, actor=world.staff_b, reason="非本部门职责")
    assert case.invitations.get(pk=invitation.pk).state == how


@pytest.mark.parametrize("how", ["declined", "withdrawn", "returned"])
def test_people_who_left_the_case_are_not_its_people(world, case_in, how):
    dispatched = how == "declined"
    case = case_in("dispatched" if dispatched else "in_progress", invite=("staff_a", "staff_b"))
    if dispatched:
        services.accept_invitation(case.invitations.get(person=world.staff_a), actor=world.staff_a)
    # staff_b is also a town leader: they still see the case, whatever became of their part.
    grant(world.staff_b, Role.LEADER, area=world.town)
    _ended(world, case, how)
    case = Case.objects.get(pk=case.pk)

    people = {world.official.pk, world.commander.pk, world.staff_a.pk}
    assert permissions.case_people_ids(case) == people
    assert room.member_ids(case) == people
    assert not permissions.is_case_person(case, world.staff_b)
    assert not permissions.is_participant(case, world.staff_b)
    assert not room.is_member(case, world.staff_b)
    assert not may_see_whole_phones(world.staff_b, case)

    detail = as_user(world.staff_b).get(case_url(case))
    assert detail.status_code == 200
    phone = world.staff_a.memberships.get().phone
    shown = {i["person"]["id"]: i["phone"] for i in detail.data["invitations"]}
    assert shown[world.staff_a.pk] == mask_phone(phone)
    assert {p["id"] for p in detail.data["participants"]} == people
    # The case's own people still see it whole.
    for person in (world.official, world.commander, world.staff_a):
        seen = as_user(person).get(case_url(case)).data["invitations"]
        assert {i["phone"] for i in seen if i["person"]["id"] == world.staff_a.pk} == {phone}


def test_the_room_and_the_case_agree_on_its_people_for_every_state(world, case_in):
    case = case_in("in_progress", invite=("staff_a",))
    services.invite_person(
        case, actor=world.official, department=world.dept_b, person=world.staff_b
    )
    case = Case.objects.get(pk=case.pk)
    pending = case.invitations.get(person=world.staff_b)
    assert pending.state == InvitationState.PENDING
    for user in world.users().values():
        expected = user.pk in permissions.case_people_ids(case)
        assert permissions.is_case_person(case, user) == expected, user
        in_rooms = room.room_cases(user).filter(pk=case.pk).exists()
        assert in_rooms == expected, user


# ------------------------------------------------------------- who sees whole phones


def admin_shows_whole(user) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    return "phone" in StaffMembershipAdmin(StaffMembership, admin.site).get_list_display(request)


def api_shows_whole(user) -> bool:
    phone = StaffMembership.objects.get(user__username="staff_a").phone
    response = as_user(user).get(reverse("api:staff-list"), {"q": "staff_a"})
    shown = {r["phone"] for r in response.data["results"]}
    assert shown in ({phone}, {mask_phone(phone)}), shown
    return shown == {phone}


def test_the_admin_and_the_api_agree_on_who_sees_whole_phones(world):
    secadmin = UserFactory(username="secadmin", name="安全管理员")
    grant(secadmin, Role.SECADMIN)
    keeper = UserFactory(username="keeper", name="通讯录管理")
    group = Group.objects.create(name="通讯录")
    group.permissions.add(Permission.objects.get(codename="view_staff_phone"))
    keeper.groups.add(group)
    MembershipFactory(user=keeper, department=world.dept_b)
    people = {**world.users(), "secadmin": secadmin, "keeper": keeper}
    answers = {name: (admin_shows_whole(u), api_shows_whole(u)) for name, u in people.items()}
    assert {name for name, (admin_says, _) in answers.items() if admin_says} == {
        "sysadmin",
        "superuser",
        "keeper",
    }
    assert all(admin_says == api_says for admin_says, api_says in answers.values()), answers
