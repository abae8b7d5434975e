"""A case's whole life from the back office, through the services."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseState, EventKind, InvitationState
from cases.models import Case, CaseEvent, Invitation

pytestmark = pytest.mark.django_db


def change_url(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def press(client, case, transition):
    """Press a transition button on the case page."""
    return client.post(change_url(case), {"_fsm_transition_to": transition})


def kinds(case):
    return list(case.events.values_list("kind", flat=True))


def test_superuser_moves_a_case_through_its_whole_life(client, world):
    client.force_login(world.superuser)

    # Raise.
    response = client.post(
        reverse("admin:cases_case_add"),
        {
            "community": world.community.pk,
            "title": "菜场门口占道经营",
            "template": world.template.pk,
            "answers_for": world.template.pk,
            "answer_stall_count": "3",
            "answer_goods": "果蔬",
            "caller": world.official.pk,
        },
    )
    case = Case.objects.get(title="菜场门口占道经营")
    assert response.status_code == 302 and response["Location"] == change_url(case)
    assert case.state == CaseState.DRAFT and case.caller == world.official
    assert case.answers == {"stall_count": 3, "goods": "果蔬"}

    # Invite two people of two departments.
    for dept, person in ((world.dept_a, world.staff_a), (world.dept_b, world.staff_b)):
        response = client.post(
            reverse("admin:cases_case_invite", args=[case.pk]),
            {"department": dept.pk, "person": person.pk},
        )
        assert response.status_code == 302
    assert case.invitations.count() == 2

    # Submit, approve.
    assert press(client, case, "submit").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.PENDING_REVIEW and case.submitted_at
    press(client, case, "approve")
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.deadline and case.response_deadline

    # Both accept from the invitation list's action.
    response = client.post(
        reverse("admin:cases_invitation_changelist"),
        {
            "action": "accept_selected",
            "_selected_action": list(case.invitations.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 302
    assert set(case.invitations.values_list("state", flat=True)) == {InvitationState.ACCEPTED}
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.first_accepted_at

    # Complete, then rate both departments in one form: the case closes.
    press(client, case, "complete")
    case.refresh_from_db()
    assert case.state == CaseState.PENDING_RATING
    page = client.get(reverse("admin:cases_case_rate", args=[case.pk]))
    assert "城管执法局" in page.content.decode() and "水务局" in page.content.decode()
    data = {}
    for dept in (world.dept_a, world.dept_b):
        for crit in (
            case.participating_departments()
            .first()
            .ratings.model._meta.apps.get_model("ratings", "Criterion")
            .objects.all()
        ):
            data[f"score_{dept.pk}_{crit.pk}"] = 96
        data[f"comment_{dept.pk}"] = "处置及时"
    response = client.post(reverse("admin:cases_case_rate", args=[case.pk]), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_at
    assert kinds(case) == [
        EventKind.CREATED,
        EventKind.INVITED,
        EventKind.INVITED,
        EventKind.SUBMITTED,
        EventKind.APPROVED,
        EventKind.ACCEPTED,
        EventKind.ACCEPTED,
        EventKind.COMPLETED,
        EventKind.RATED,
        EventKind.RATED,
        EventKind.CLOSED,
    ]
    assert client.get(change_url(case)).status_code == 200


def test_send_back_asks_for_a_reason_and_refuses_none(client, world, case_in):
    case = case_in("pending_review")
    client.force_login(world.superuser)
    response = press(client, case, "send_back")
    form_url = reverse("admin:cases_case_transition", args=[case.pk, "send_back"])
    assert response.status_code == 302 and response["Location"] == form_url
    assert client.post(form_url, {"reason": ""}).status_code == 200  # form shown again
    case.refresh_from_db()
    assert case.state == CaseState.PENDING_REVIEW
    client.post(form_url, {"reason": "请补充现场照片"})
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT
    assert case.events.get(kind=EventKind.SENT_BACK).note == "请补充现场照片"


def test_only_permitted_buttons_are_offered(client, world, case_in, django_user_model):
    case = case_in("pending_review")
    world.official.is_staff = True
    world.official.save()
    perm = django_user_model._meta.apps.get_model("auth", "Permission")
    world.official.user_permissions.add(
        *perm.objects.filter(codename__in=["view_case", "change_case"])
    )
    client.force_login(world.official)
    body = client.get(change_url(case)).content.decode()
    assert 'data-action="cancel"' in body  # the caller may cancel
    assert 'data-action="approve"' not in body  # only a commander approves


def test_a_refused_transition_shows_an_error_and_changes_nothing(client, world, case_in):
    case = case_in("draft")
    client.force_login(world.superuser)
    events_before = case.events.count()
    response = press(client, case, "approve")  # a draft cannot be approved
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT and case.events.count() == events_before
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages and all("approve" in m or "审核" in m or "not allowed" in m for m in messages)


def test_raising_with_bad_answers_shows_field_errors_and_saves_nothing(client, world):
    client.force_login(world.superuser)
    response = client.post(
        reverse("admin:cases_case_add"),
        {
            "community": world.community.pk,
            "title": "占道",
            "template": world.template.pk,
            "answers_for": world.template.pk,
            "answer_stall_count": "很多",
            "answer_goods": "其他",
        },
    )
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert response.context["form"].errors


def test_declining_from_the_list_needs_a_reason(client, world, case_in):
    case = case_in("dispatched")
    client.force_login(world.superuser)
    ids = list(case.invitations.values_list("pk", flat=True))
    url = reverse("admin:cases_invitation_changelist")
    client.post(url, {"action": "decline_selected", "_selected_action": ids, "reason": ""})
    assert not Invitation.objects.filter(state=InvitationState.DECLINED).exists()
    client.post(
        url,
        {"action": "decline_selected", "_selected_action": ids[:1], "reason": "不属于本部门职责"},
    )
    assert Invitation.objects.get(pk=ids[0]).state == InvitationState.DECLINED


def test_case_changelist_queries_do_not_grow_with_rows(
    client, world, case_in, django_assert_max_num_queries
):
    client.force_login(world.superuser)
    case_in("draft")
    url = reverse("admin:cases_case_changelist")
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for _ in range(29):
        case_in("draft")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_staff_see_only_their_cases_in_the_admin(client, world, case_in):
    mine = case_in("dispatched", invite=("staff_b",))
    other = case_in("dispatched", invite=("staff_a",))
    assert CaseEvent.objects.exists()
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from cases.admin import CaseAdmin

    request = RequestFactory().get("/")
    request.user = world.staff_b
    visible = CaseAdmin(Case, django_admin.site).get_queryset(request)
    assert mine in visible and other not in visible


def test_action_pages_that_do_not_apply_send_you_back_with_the_reason(client, world, case_in):
    client.force_login(world.superuser)
    closed = case_in("closed")
    for name in ("edit_draft", "invite", "rate"):
        response = client.get(reverse(f"admin:cases_case_{name}", args=[closed.pk]))
        assert response.status_code == 302 and response["Location"] == change_url(closed)
        assert closed.number in str(list(get_messages(response.wsgi_request))[-1])


def test_action_pages_of_an_invisible_case_are_404(client, world, case_in):
    case = case_in("pending_rating")
    world.staff_b.is_staff = True
    world.staff_b.save()
    perm = type(world.staff_b)._meta.apps.get_model("auth", "Permission")
    world.staff_b.user_permissions.add(
        *perm.objects.filter(codename__in=["view_case", "change_case", "add_case"])
    )
    other = case_in("draft", invite=("staff_a",))
    client.force_login(world.staff_b)
    assert client.get(reverse("admin:cases_case_edit_draft", args=[other.pk])).status_code == 404
    assert client.get(change_url(other)).status_code == 302  # the admin's "does not exist" redirect
    assert client.get(change_url(case)).status_code == 200


def test_supervision_from_the_case_page(client, world, case_in):
    """A superuser issues an order, answers it and decides an extension on the case page."""
    from datetime import timedelta

    from cases import services

    case = case_in("in_progress")
    client.force_login(world.superuser)
    page = client.get(change_url(case)).content.decode()
    assert reverse("admin:cases_case_supervise", args=[case.pk]) in page

    url = reverse("admin:cases_case_supervise", args=[case.pk])
    refused = client.post(url, {"instruction": "快", "due_at": "2000-01-01 08:00"})
    assert refused.status_code == 200 and not case.supervision_orders.exists()
    due = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"instruction": "今日内清理", "due_at": due})
    assert response.status_code == 302, response.content
    order = case.supervision_orders.get()

    answer_url = reverse("admin:cases_case_answer_order", args=[case.pk])
    response = client.post(answer_url, {"order": order.pk, "answer": "已清理"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "answered"

    extension = services.request_extension(
        case, actor=world.staff_a, reason="等待材料", until=case.deadline + timedelta(days=1)
    )
    decide_url = reverse("admin:cases_case_decide_extension", args=[case.pk])
    assert "等待材料" in client.get(decide_url).content.decode()
    refused = client.post(decide_url, {"decision": "refuse", "note": ""})
    assert refused.status_code == 200  # refusing needs a note: shown on the form
    extension.refresh_from_db()
    assert extension.state == "pending"
    assert client.post(decide_url, {"decision": "approve", "note": ""}).status_code == 302
    case.refresh_from_db()
    assert case.deadline == extension.requested_deadline


def test_supervision_pages_refuse_when_they_do_not_apply(client, world, case_in):
    case = case_in("draft")
    client.force_login(world.superuser)
    response = client.get(reverse("admin:cases_case_supervise", args=[case.pk]))
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages and case.number in messages[0]


def test_return_redispatch_and_extension_request_from_the_case_page(client, world, case_in):
    from datetime import timedelta

    case = case_in("dispatched")
    client.force_login(world.superuser)
    url = reverse("admin:cases_case_ask_extension", args=[case.pk])
    until = (timezone.localtime(case.deadline) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"until": until, "reason": "等待材料"}).status_code == 302
    assert case.extension_requests.get().state == "pending"

    refused = client.post(reverse("admin:cases_case_return", args=[case.pk]), {"reason": ""})
    assert refused.status_code == 200  # the reason is required
    url = reverse("admin:cases_case_return", args=[case.pk])
    unnamed = client.post(url, {"reason": "非本部门职责"})
    assert unnamed.status_code == 200  # a superuser names the department
    assert not case.invitations.filter(state=InvitationState.RETURNED).exists()
    response = client.post(url, {"reason": "非本部门职责", "department": world.dept_a.pk})
    assert response.status_code == 302
    assert case.invitations.filter(state=InvitationState.RETURNED).exists()

    before = Case.objects.get(pk=case.pk).response_deadline
    response = client.post(
        reverse("admin:cases_case_redispatch", args=[case.pk]),
        {"department": world.dept_a.pk, "person": world.staff_a2.pk, "note": "改派"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.response_deadline > before
    assert kinds(case)[-1] == EventKind.REDISPATCHED


def test_deciding_with_no_extension_pending_goes_back_to_the_case(client, world, case_in):
    case = case_in("in_progress")
    client.force_login(world.superuser)
    response = client.get(reverse("admin:cases_case_decide_extension", args=[case.pk]))
    assert response.status_code == 302 and response.url == change_url(case)


def test_a_supervision_step_page_labels_the_event_it_wrote(client, world, case_in):
    from cases.choices import StepKind
    from cases.models import SupervisionStep
    from tests.core.test_chinese_everywhere import visible_text

    case = case_in("dispatched")
    event = CaseEvent.objects.create(case=case, kind=EventKind.OVERDUE)
    step = SupervisionStep.objects.create(
        case=case, kind=StepKind.OVERDUE, due_at=timezone.now(), event=event
    )
    client.force_login(world.superuser)
    page = client.get(reverse("admin:cases_supervisionstep_change", args=[step.pk]))
    texts = visible_text(page.content.decode())
    assert page.status_code == 200 and "Event:" not in texts
    assert "事件:" in texts  # the label, in the default language
    assert f"{case.number} · {EventKind.OVERDUE.label}" in texts
