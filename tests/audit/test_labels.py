"""The audit administrator reads what happened, not the codes the log stores."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from audit.labels import ACTION_LABELS, action_label
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
