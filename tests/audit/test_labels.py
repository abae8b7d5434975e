"""The audit administrator reads what happened, not the codes the log stores."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from audit.labels import ACTION_LABELS, DETAIL_LABELS, VIA_LABELS, action_label
from audit.models import AuditRecord
from audit.services import record
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def audit_admin():
    person = UserFactory(username="shenji", name="审计管理员", is_staff=True)
    grant(person, Role.AUDITADMIN)
    client = Client()
    client.force_login(person)
    return client


def test_the_log_lists_and_filters_actions_by_their_labels(audit_admin):
    record("personal_data.view", details={"what": "phone"})
    page = audit_admin.get(reverse("admin:audit_auditrecord_changelist")).content.decode()
    assert "查看个人信息" in page and "登录" in page  # the viewing and the admin's log-in
    assert "personal_data.view" not in page.replace('action=personal_data.view"', "")
    assert ">auth.login<" not in page
    filtered = audit_admin.get(
        reverse("admin:audit_auditrecord_changelist"), {"action": "personal_data.view"}
    )
    assert filtered.context["cl"].result_count == 1


def test_families_of_codes_have_labels_and_unknown_codes_stay_as_they_are():
    assert action_label("case.approved") == "案件：审核通过并派单"
    assert action_label("export.ranking") == "导出：部门排名"
    assert action_label("import.criterion").startswith("表格导入：")
    assert action_label("made.up") == "made.up"
    assert all(action_label(code) != code for code in ACTION_LABELS)


def test_a_records_details_read_as_labelled_values_not_json(audit_admin, world):
    from tests.core.test_chinese_everywhere import visible_text

    entry = record(
        "role.granted_in_bulk",
        details={
            "user": world.official.pk,
            "role": "village_official",
            "outside_service": True,
            "roles": {"staff": 3},
            "administrators": [["li", "sysadmin"]],
            "via": "session",
            "before": {"role": "commander", "area": None},
        },
    )
    page = audit_admin.get(reverse("admin:audit_auditrecord_change", args=[entry.pk]))
    texts = visible_text(page.content.decode())
    assert page.status_code == 200
    assert not [text for text in texts if "{" in text or '"' in text]  # no JSON
    for code in ("village_official", "staff", "sysadmin", "commander", "session", "true"):
        assert not [text for text in texts if code in text], code
    labels = DETAIL_LABELS
    for key in ("user", "role", "outside_service", "roles", "administrators", "via", "before"):
        assert str(labels[key]) in texts, key
    assert str(Role.VILLAGE_OFFICIAL.label) in texts and str(Role.COMMANDER.label) in texts
    assert f"{Role.STAFF.label}：3" in texts and f"li（{Role.SYSADMIN.label}）" in texts
    assert str(VIA_LABELS["session"]) in texts and "是" in texts and "—" in texts
    assert str(world.official.pk) in texts


def test_a_read_of_whole_phones_says_in_chinese_what_was_read(audit_admin, world):
    keeper = Client()
    keeper.force_login(world.superuser)
    assert keeper.get(reverse("admin:departments_staffmembership_changelist")).status_code == 200
    seen = AuditRecord.objects.get(action="personal_data.view")
    assert seen.details["what"] == "staff_list"  # a code, shown by its label
    page = audit_admin.get(
        reverse("admin:audit_auditrecord_change", args=[seen.pk])
    ).content.decode()
    assert "后台列表中的工作人员电话" in page and "staff_list" not in page
