"""Deny by default: every admin page, walked for every role, against the permission table.

The table below is written out by hand (not read from accounts.backends), so a
change to what a role may reach must change both, on purpose.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.choices import Role
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

CASE_READ = {
    "cases.case",
    "cases.caseevent",
    "cases.invitation",
    "cases.supervisionorder",
    "cases.extensionrequest",
    "cases.supervisionstep",
}
INTEGRATIONS = {
    "integrations.externalsystem",
    "integrations.categorymapping",
    "integrations.areamapping",
    "integrations.delivery",
    "integrations.intakereview",
    "integrations.externalcase",
    "integrations.outboundmessage",
}
VISIBLE = {
    "sysadmin": {
        "grids.area",
        "grids.workstation",
        "departments.department",
        "departments.staffmembership",
        "templates.category",
        "templates.casetemplate",
        "templates.templatefield",
        "ratings.criterion",
        "cases.holiday",
        "core.failedtask",
        *CASE_READ,
        *INTEGRATIONS,
    },
    "secadmin": {
        "accounts.user",
        "accounts.roleassignment",
        "auth.group",
        "axes.accessattempt",
        "axes.accesslog",
        "axes.accessfailurelog",
        "token_blacklist.outstandingtoken",
        "token_blacklist.blacklistedtoken",
        "otp_totp.totpdevice",
        "otp_static.staticdevice",
    },
    "auditadmin": {"audit.auditrecord"},
    "auditor": {*CASE_READ, "ratings.rating", "chat.message", "chat.attachment"},
    "leader": CASE_READ,
    "grid_leader": CASE_READ,
    "commander": CASE_READ,
    "official": CASE_READ,
    "staff_a": CASE_READ,
    "head_a": CASE_READ,
    "stranger": set(),
}
DASHBOARD = {"sysadmin", "auditor", "leader", "grid_leader", "commander"}


@pytest.fixture
def people(world):
    secadmin, auditadmin = UserFactory(username="anquan_t"), UserFactory(username="shenji_t")
    grant(secadmin, Role.SECADMIN)
    grant(auditadmin, Role.AUDITADMIN)
    found = {name: getattr(world, name) for name in VISIBLE if hasattr(world, name)}
    found.update(secadmin=secadmin, auditadmin=auditadmin)
    for user in found.values():
        user.is_staff = True  # admin access itself is not the question here
        user.save(update_fields=["is_staff"])
    return found


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_every_admin_page_for_every_role(client, people, who):
    client.force_login(people[who])
    for model in admin.site._registry:
        label = model._meta.label_lower
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        expected = 200 if label in VISIBLE[who] else 403
        assert client.get(url).status_code == expected, (who, label)
    dashboard = client.get(reverse("analytics-dashboard")).status_code
    assert dashboard == (200 if who in DASHBOARD else 403), who


def test_the_security_administrator_reads_no_case_data(client, people, case_in):
    case = case_in("in_progress")
    client.force_login(people["secadmin"])
    assert client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code in (302, 403)
    from tests.api.client import as_user

    assert as_user(people["secadmin"]).get(reverse("api:case-list")).json()["results"] == []
