"""The case page as a person meets it: what they may do on top, the answers as text,
the template's questions as a form, and a layout that fits a phone."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from cases.choices import CaseState, InvitationState
from cases.models import Case
from tests.factories import TemplateFieldFactory

pytestmark = pytest.mark.django_db


def change_url(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def staff(user, *codenames):
    """Let ``user`` into the back office with the given case permissions."""
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def actions_on(body: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', body)


def main_text(body: str) -> str:
    """The visible text of the page's main part (no tags, scripts or attributes)."""
    main = body[body.index(">", body.index('id="content-main"')) + 1 :]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    values = " ".join(re.findall(r'<input[^>]*type="submit"[^>]*value="([^"]*)"', main))
    return unescape(re.sub(r"<[^>]+>", " ", main)) + " " + values


def test_the_actions_come_first_and_only_those_the_role_and_state_allow(client, world, case_in):
    case = case_in("pending_review")
    client.force_login(world.superuser)
    body = client.get(change_url(case)).content.decode()
    assert {"approve", "send_back", "cancel"} <= set(actions_on(body))
    assert "complete" not in actions_on(body)  # not in this state
    assert body.index('data-action="approve"') < body.index('id="case_form"')

    staff(world.official, "view_case", "change_case")  # the caller
    client.force_login(world.official)
    body = client.get(change_url(case)).content.decode()
    assert "cancel" in actions_on(body)
    assert "approve" not in actions_on(body) and "send_back" not in actions_on(body)


def test_no_close_button_that_reads_like_closing_the_case(client, world, case_in):
    case = case_in("in_progress")
    client.force_login(world.superuser)
    body = client.get(change_url(case)).content.decode()
    assert not re.search(r">\s*关闭\s*</a>", body)
    assert f'href="{reverse("admin:cases_case_changelist")}"' in body  # the way back


def test_send_back_and_a_department_return_are_told_apart(client, world, case_in):
    client.force_login(world.superuser)
    labels = {}
    for state in ("pending_review", "in_progress"):
        body = client.get(change_url(case_in(state))).content.decode()
        labels.update(re.findall(r'data-action="([a-z_]+)"[^>]*>\s*([^<]+?)\s*<', body))
    assert labels["send_back"] != "退回" and labels["send_back"] != labels["return"]
    assert labels["cancel"] == "撤销" and labels["complete"] == "办结"


def test_the_cancel_form_speaks_chinese_and_shows_no_none(client, world, case_in):
    case = case_in("pending_review")
    client.force_login(world.superuser)
    url = reverse("admin:cases_case_transition", args=[case.pk, "cancel"])
    text = main_text(client.get(url).content.decode())
    assert "None" not in text and "Apply" not in text
    assert re.findall(r"[A-Za-z]{2,}", text) == []
    assert "理由" in text and "撤销" in text


def test_no_action_form_shows_none_or_apply(client, world, case_in):
    """Every form page behind the case page's actions, empty, as a superuser opens it."""
    from datetime import timedelta

    from cases import services

    client.force_login(world.superuser)
    live = case_in("in_progress")
    services.request_extension(
        live, actor=world.staff_a, reason="等待材料", until=live.deadline + timedelta(days=1)
    )
    pages = [
        ("pending_review", "transition", ["send_back"]),
        ("pending_review", "transition", ["cancel"]),
        ("pending_rating", "transition", ["reopen"]),
        ("draft", "edit_draft", []),
        ("draft", "invite", []),
        ("dispatched", "redispatch", []),
        ("pending_rating", "rate", []),
    ]
    urls = [
        reverse(f"admin:cases_case_{name}", args=[case_in(state).pk, *extra])
        for state, name, extra in pages
    ] + [
        reverse(f"admin:cases_case_{name}", args=[live.pk])
        for name in ("supervise", "return", "decide_extension")
    ]
    # Asking for an extension applies while none waits for a decision (cases.operations).
    urls.append(reverse("admin:cases_case_ask_extension", args=[case_in("in_progress").pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = main_text(response.content.decode())
        assert "None" not in text and "Apply" not in text, url


def test_the_invited_person_accepts_on_top_of_the_case_page(client, world, case_in):
    case = case_in("dispatched")
    staff(world.staff_a, "view_case", "change_case")
    client.force_login(world.staff_a)
    body = client.get(change_url(case)).content.decode()
    assert "accept" in actions_on(body) and "approve" not in actions_on(body)
    client.post(change_url(case), {"_case_accept": "accept"})
    invitation = case.invitations.get(person=world.staff_a)
    assert invitation.state == InvitationState.ACCEPTED
    assert Case.objects.get(pk=case.pk).state == CaseState.IN_PROGRESS


def test_the_case_page_shows_answers_as_labels_and_values_not_json(client, world, case_in):
    TemplateFieldFactory(template=world.template, key="seen_on", label="发现日期", kind="date")
    case = case_in("in_progress")
    Case.objects.filter(pk=case.pk).update(
        answers={"stall_count": 3, "goods": "果蔬", "seen_on": "2026-11-30"}
    )
    client.force_login(world.superuser)
    body = client.get(change_url(case)).content.decode()
    assert "<dt>摊位数量</dt><dd>3</dd>" in body
    assert "<dt>经营品类</dt><dd>果蔬</dd>" in body
    assert "<dt>发现日期</dt><dd>2026年11月30日</dd>" in body
    assert "stall_count" not in body  # no key, no JSON


def test_raising_a_case_asks_the_templates_questions_one_field_each(client, world):
    client.force_login(world.superuser)
    url = reverse("admin:cases_case_add") + f"?template={world.template.pk}"
    body = client.get(url).content.decode()
    assert 'name="answer_stall_count"' in body and 'name="answer_goods"' in body
    assert '<option value="熟食">熟食</option>' in body
    assert 'name="answers"' not in body


def test_raising_a_case_refuses_a_missing_required_answer_like_the_api(client, world):
    world.template.fields.filter(key="goods").update(required=True)
    client.force_login(world.superuser)
    response = client.post(
        reverse("admin:cases_case_add"),
        {
            "community": world.community.pk,
            "title": "占道",
            "template": world.template.pk,
            "answers_for": world.template.pk,
            "answer_stall_count": "3",
            "answer_goods": "",
        },
    )
    assert response.status_code == 200 and not Case.objects.exists()
    errors = response.context["form"].errors["answer_goods"]
    assert any("经营品类" in e for e in errors), errors


def test_choosing_a_template_shows_its_questions_before_raising(client, world):
    client.force_login(world.superuser)
    response = client.post(
        reverse("admin:cases_case_add"),
        {"community": world.community.pk, "title": "占道", "template": world.template.pk},
    )
    assert response.status_code == 200 and not Case.objects.exists()
    assert 'name="answer_goods"' in response.content.decode()


def test_the_phone_width_rules_are_served_with_the_lists_and_the_dashboard(client, world):
    """The rules exist and every page that needs them loads them (what they do at
    375 px is measured in a browser by ``test_phone_width.py``)."""
    css = Path(finders.find("core/admin-phone.css")).read_text(encoding="utf-8")
    phone = css[css.index("@media (max-width: 767px)") :]
    assert re.search(r"#result_list th, #result_list td \{ white-space: nowrap; \}", phone)
    assert re.search(r"\.results[^{]*\{[^}]*overflow-x: auto", phone)
    assert re.search(r"\.area-tree \{ white-space: nowrap; \}", phone)
    assert re.search(r"\.jd-grid \{ grid-template-columns: minmax\(0, 1fr\)", phone)
    admin_css = Path(finders.find("core/admin.css")).read_text(encoding="utf-8")
    assert '@import url("admin-phone.css")' in admin_css

    client.force_login(world.superuser)
    for url in (reverse("admin:cases_case_changelist"), reverse("admin:grids_area_changelist")):
        assert "core/admin.css" in client.get(url).content.decode(), url
    dashboard = client.get(reverse("analytics-dashboard")).content.decode()
    assert "core/admin-phone.css" in dashboard
    assert "minmax(420px" not in dashboard  # a 420 px column is wider than a 375 px phone


def test_editing_a_draft_shows_and_saves_its_answers_field_by_field(client, world, case_in):
    case = case_in("draft")
    Case.objects.filter(pk=case.pk).update(answers={"stall_count": 3, "goods": "果蔬"})
    client.force_login(world.superuser)
    url = reverse("admin:cases_case_edit_draft", args=[case.pk])
    body = client.get(url).content.decode()
    assert re.search(r'name="answer_stall_count"[^>]*value="3"', body)
    assert '<option value="果蔬" selected>' in body
    data = {"title": case.title, "priority": case.priority, "answer_stall_count": "5"}
    refused = client.post(url, {**data, "answer_goods": "家电"})
    assert refused.status_code == 200 and "answer_goods" in refused.context["form"].errors
    assert client.post(url, {**data, "answer_goods": "熟食"}).status_code == 302
    assert Case.objects.get(pk=case.pk).answers == {"stall_count": 5, "goods": "熟食"}


@pytest.mark.parametrize(
    ("who", "offered", "not_offered"),
    [
        ("leader", {"supervise"}, {"cancel", "complete", "return", "ask_extension", "invite"}),
        ("staff_a", {"return", "ask_extension", "answer_order"}, {"supervise", "cancel"}),
        ("commander", {"complete", "answer_order"}, {"cancel", "return", "ask_extension"}),
    ],
)
def test_each_role_is_offered_what_the_services_let_it_do(
    client, world, case_in, who, offered, not_offered
):
    """The buttons ask the services' own guards (``services.available_actions``)."""
    from datetime import timedelta

    from cases import services

    case = case_in("in_progress")  # staff_a's invitation accepted
    services.issue_supervision_order(
        case,
        actor=world.leader,
        instruction="今日内清理",
        due_at=case.deadline - timedelta(hours=1),
    )
    user = getattr(world, who)
    staff(user, "view_case", *(["change_case"] if who == "commander" else []))
    client.force_login(user)
    shown = set(actions_on(client.get(change_url(case)).content.decode()))
    assert offered <= shown and not (not_offered & shown), shown


def test_no_transition_button_without_the_right_to_change_cases(client, world, case_in):
    """A button must not lead to a refusal page: a caller who may only read cases sees
    no transition, though the state machine would let them complete it."""
    from tests.factories import UserFactory

    case = case_in("in_progress")
    reader = UserFactory(name="只读呼叫人")
    Case.objects.filter(pk=case.pk).update(caller=reader)
    staff(reader, "view_case")
    client.force_login(reader)
    response = client.get(change_url(case))
    assert response.status_code == 200
    assert "complete" not in actions_on(response.content.decode())
