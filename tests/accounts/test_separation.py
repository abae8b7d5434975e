"""三权分立: every path that can create a role or change an account, walked as each of
the three administrators.

Each forbidden attempt is refused (403, a form error, a row error or a command
error) and changes nothing: accounts, their flags, groups, permissions and
passwords, role assignments, staff memberships and workstations are compared
before and after. The allowed paths (the security administrator granting a
business role to a business account, the system administrator naming an
ordinary person, a superuser opening an administrator's account) work and
are audited with who did it and from which address.
"""

from __future__ import annotations

import io

import pytest
import tablib
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.choices import Role
from accounts.models import RoleAssignment, User
from audit.models import AuditRecord
from departments.models import StaffMembership
from departments.resources import StaffMembershipResource
from grids.models import Workstation
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

ADMINS = ("sysadmin", "secadmin", "auditadmin")
ADDRESS = "10.9.8.7"


@pytest.fixture
def people(world):
    """The three administrators (staff, one admin role each), a business person, a superuser."""
    secadmin = UserFactory(username="anquan_t", name="安全员")
    auditadmin = UserFactory(username="shenji_t", name="审计员")
    grant(secadmin, Role.SECADMIN)
    grant(auditadmin, Role.AUDITADMIN)
    found = {
        "sysadmin": world.sysadmin,
        "secadmin": secadmin,
        "auditadmin": auditadmin,
        "superuser": world.superuser,
        "business": world.stranger,  # an ordinary account, no role yet
        "staff": world.staff_a,
    }
    for name in ADMINS:
        found[name].is_staff = True
        found[name].save(update_fields=["is_staff"])
    return found


def browser(user) -> Client:
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(user)
    return client


def state() -> dict:
    """Everything an attack on accounts and roles could change."""
    return {
        "users": sorted(
            User.objects.values_list(
                "pk", "username", "name", "is_superuser", "is_staff", "is_active", "password"
            )
        ),
        "groups": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        "permissions": sorted(
            User.user_permissions.through.objects.values_list("user_id", "permission_id")
        ),
        "group_permissions": sorted(
            Group.permissions.through.objects.values_list("group_id", "permission_id")
        ),
        "roles": sorted(
            RoleAssignment.objects.values_list("user_id", "role", "area_id", "department_id")
        ),
        "memberships": sorted(
            StaffMembership.objects.values_list("user_id", "department_id", "is_active")
        ),
        "workstations": sorted(
            Workstation.objects.values_list("pk", "commander_id", "grid_leader_id")
        ),
    }


def form_data(response) -> dict:
    """What a browser would post back unchanged from an admin form page (form and inlines)."""
    context = response.context
    data: dict = {}
    forms = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms += list(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            key, value, widget = form.add_prefix(name), form[name].value(), field.widget
            if isinstance(widget, MultiWidget):
                for i, (part_widget, part) in enumerate(
                    zip(widget.widgets, widget.decompress(value), strict=True)
                ):
                    data[f"{key}_{i}"] = part_widget.format_value(part) or ""
            elif value is None or value is False:
                continue
            elif value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)
    return data


def user_url(user, page="change") -> str:
    if page == "password":
        return f"/admin/accounts/user/{user.pk}/password/"
    return reverse(f"admin:accounts_user_{page}", args=[user.pk])


def post_user_page(client, user, superuser_view: Client | None = None, **changes):
    """Post ``user``'s change page with ``changes`` (the page as the superuser sees it when
    the poster may not open it, so that the post carries every field)."""
    page = (superuser_view or client).get(user_url(user))
    data = {**form_data(page), **changes}
    return client.post(user_url(user), data)


def refused(response) -> bool:
    """403, or the page shown again with an error (not saved)."""
    if response.status_code == 403:
        return True
    if response.status_code != 200:
        return False
    context = response.context
    errors = context.get("errors") if context else None
    return bool(errors) or bool(context and context.get("result"))


def role_records(action="role.granted"):
    """Records the services wrote (the fixtures' own grants are written around them)."""
    found = AuditRecord.objects.filter(action=action).order_by("id")
    return [r for r in found if not r.details.get("outside_service")]


# ------------------------------------------------------------ the account page


@pytest.mark.parametrize("who", ADMINS)
@pytest.mark.parametrize("field", ["is_superuser", "groups", "user_permissions"])
def test_nobody_but_a_superuser_ticks_superuser_status_groups_or_permissions(people, who, field):
    group = Group.objects.create(name="全部权限")
    group.permissions.set(Permission.objects.all())
    value = {
        "is_superuser": "on",
        "groups": [str(group.pk)],
        "user_permissions": [str(Permission.objects.get(codename="view_auditrecord").pk)],
    }[field]
    client, root = browser(people[who]), browser(people["superuser"])
    before = state()
    for target in (people[who], people["business"], people["auditadmin"]):
        response = post_user_page(client, target, root, **{field: value})
        assert refused(response), (who, target, response.status_code)
    assert state() == before
    # The form never offers them to anyone but a superuser.
    if who == "secadmin":
        page = client.get(user_url(people["business"])).content.decode()
        assert f'name="{field}"' not in page
        assert f'name="{field}"' in root.get(user_url(people["business"])).content.decode()


@pytest.mark.parametrize("who", ADMINS)
def test_no_administrator_edits_their_own_or_another_administrators_account(people, who):
    client, root = browser(people[who]), browser(people["superuser"])
    before = state()
    for target in (people[who], *(people[a] for a in ADMINS if a != who), people["superuser"]):
        for changes in ({"name": "改名"}, {"is_active": ""}, {"username": "renamed"}):
            data = {**form_data(root.get(user_url(target))), **changes}
            if changes == {"is_active": ""}:
                data.pop("is_active")
            response = client.post(user_url(target), data)
            assert response.status_code == 403, (who, target, changes)
        assert client.post(user_url(target, "delete"), {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [people[a].pk for a in ADMINS],
            "post": "yes",
        },
    )
    assert bulk.status_code in (200, 403)
    assert state() == before


@pytest.mark.parametrize("who", ADMINS)
def test_no_administrator_resets_an_administrators_or_their_own_password(people, who):
    client = browser(people[who])
    before = state()
    for target in (people[who], *(people[a] for a in ADMINS), people["superuser"]):
        response = client.post(
            user_url(target, "password"),
            {"password1": "Xin-Mima-2026!", "password2": "Xin-Mima-2026!"},
        )
        assert response.status_code == 403, (who, target)
    assert state() == before


@pytest.mark.parametrize("who", ADMINS)
def test_only_the_security_administrator_resets_a_business_password_audited(people, who):
    target = people["business"]
    response = browser(people[who]).post(
        user_url(target, "password"),
        {"password1": "Xin-Mima-2026!", "password2": "Xin-Mima-2026!"},
    )
    target.refresh_from_db()
    if who != "secadmin":
        assert response.status_code == 403
        assert not target.check_password("Xin-Mima-2026!")
        return
    assert response.status_code == 302
    assert target.check_password("Xin-Mima-2026!")
    [record] = AuditRecord.objects.filter(action="account.password_reset")
    assert (record.actor, record.ip, record.object_id) == (people[who], ADDRESS, str(target.pk))


def test_the_security_administrator_deactivates_a_business_account_audited(people):
    target = people["business"]
    data = form_data(browser(people["secadmin"]).get(user_url(target)))
    data.pop("is_active")
    response = browser(people["secadmin"]).post(user_url(target), data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    target.refresh_from_db()
    assert not target.is_active
    [record] = AuditRecord.objects.filter(action="account.changed")
    # (the form posts the join date back without its microseconds: also "changed")
    assert (record.actor, record.ip) == (people["secadmin"], ADDRESS)
    assert (
        "is_active" in record.details["fields"] and "is_superuser" not in record.details["fields"]
    )


# ------------------------------------------------------------ roles on the account page


def add_inline_role(data: dict, role: str, *, area="", department="") -> dict:
    prefix = "role_assignments"
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data = {**data, f"{prefix}-TOTAL_FORMS": str(n + 1)}
    data.update(
        {
            f"{prefix}-{n}-role": role,
            f"{prefix}-{n}-area": str(area),
            f"{prefix}-{n}-department": str(department),
            f"{prefix}-{n}-user": "",
            f"{prefix}-{n}-id": "",
        }
    )
    return data


#: (target, role) attempts no administrator may make through the account page's role list.
FORBIDDEN_GRANTS = [
    ("self", Role.AUDITOR),
    ("self", Role.SYSADMIN),
    ("business", Role.AUDITADMIN),
    ("business", Role.SECADMIN),
    ("auditadmin", Role.AUDITOR),
    ("sysadmin", Role.AUDITOR),
    ("staff", Role.SYSADMIN),  # a business account gets no administrator role
]


@pytest.mark.parametrize("who", ADMINS)
@pytest.mark.parametrize(("target", "role"), FORBIDDEN_GRANTS)
def test_forbidden_grants_on_the_account_page_are_refused(people, world, who, target, role):
    person = people[who] if target == "self" else people[target]
    client, root = browser(people[who]), browser(people["superuser"])
    data = add_inline_role(form_data(root.get(user_url(person))), role)
    before = state()
    response = client.post(user_url(person), data)
    assert refused(response), (who, target, role, response.status_code)
    assert state() == before


def test_the_security_administrator_grants_a_business_role_audited(people):
    target = people["business"]
    client = browser(people["secadmin"])
    data = add_inline_role(form_data(client.get(user_url(target))), Role.AUDITOR)
    response = client.post(user_url(target), data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    assert RoleAssignment.objects.filter(user=target, role=Role.AUDITOR).exists()
    [record] = [r for r in role_records() if r.details.get("role") == Role.AUDITOR]
    assert (record.actor, record.ip, record.details["user"]) == (
        people["secadmin"],
        ADDRESS,
        target.username,
    )
    granted = RoleAssignment.objects.get(user=target, role=Role.AUDITOR)
    assert AuditRecord.objects.filter(object_id=str(granted.pk), action="role.granted").count() == 1


def test_a_superuser_opens_an_administrators_account_audited(people):
    client = browser(people["superuser"])
    page = client.get(reverse("admin:accounts_user_add"))
    data = add_inline_role(
        {
            **form_data(page),
            "username": "shenji_new",
            "name": "新审计员",
            "password1": "Shenji-Mima-2026!",
            "password2": "Shenji-Mima-2026!",
        },
        Role.AUDITADMIN,
    )
    response = client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    new = User.objects.get(username="shenji_new")
    assert list(new.role_assignments.values_list("role", flat=True)) == [Role.AUDITADMIN]
    created = AuditRecord.objects.get(action="account.created")
    granted = AuditRecord.objects.get(action="role.granted", details__user="shenji_new")
    for record in (created, granted):
        assert (record.actor, record.ip) == (people["superuser"], ADDRESS)


@pytest.mark.parametrize("who", ADMINS)
def test_no_administrator_opens_an_account_holding_an_administrator_role(people, who):
    client = browser(people[who])
    root = browser(people["superuser"])
    data = add_inline_role(
        {
            **form_data(root.get(reverse("admin:accounts_user_add"))),
            "username": "shenji_new",
            "name": "新审计员",
            "password1": "Shenji-Mima-2026!",
            "password2": "Shenji-Mima-2026!",
            "is_superuser": "on",
        },
        Role.AUDITADMIN,
    )
    before = state()
    response = client.post(reverse("admin:accounts_user_add"), data)
    assert refused(response), (who, response.status_code)
    assert state() == before


# ------------------------------------------------------------ the role list


def role_url(page="add", assignment=None) -> str:
    if page == "changelist":
        return reverse("admin:accounts_roleassignment_changelist")
    if assignment is None:
        return reverse(f"admin:accounts_roleassignment_{page}")
    return reverse(f"admin:accounts_roleassignment_{page}", args=[assignment.pk])


@pytest.mark.parametrize("who", ADMINS)
@pytest.mark.parametrize(("target", "role"), FORBIDDEN_GRANTS)
def test_forbidden_grants_on_the_role_list_are_refused(people, who, target, role):
    person = people[who] if target == "self" else people[target]
    before = state()
    response = browser(people[who]).post(
        role_url("add"), {"user": person.pk, "role": role, "area": "", "department": ""}
    )
    assert refused(response), (who, target, role, response.status_code)
    assert state() == before


@pytest.mark.parametrize("who", ADMINS)
def test_no_administrator_changes_or_removes_an_administrator_role(people, who):
    client = browser(people[who])
    business = grant(people["business"], Role.AUDITOR)
    before = state()
    for name in ADMINS:
        assignment = RoleAssignment.objects.get(user=people[name])
        response = client.post(
            role_url("change", assignment),
            {"user": people["business"].pk, "role": Role.AUDITOR, "area": "", "department": ""},
        )
        assert refused(response), (who, name)
        assert client.post(role_url("delete", assignment), {"post": "yes"}).status_code == 403
    # A business role turned into an administrator role.
    response = client.post(
        role_url("change", business),
        {"user": people["business"].pk, "role": Role.SYSADMIN, "area": "", "department": ""},
    )
    assert refused(response)
    client.post(
        role_url("changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in RoleAssignment.objects.filter(user__is_staff=True)],
            "post": "yes",
        },
    )
    assert state() == before


@pytest.mark.parametrize("who", ADMINS)
def test_only_the_security_administrator_removes_business_roles_audited(people, world, who):
    first = grant(people["business"], Role.AUDITOR)
    second = grant(people["business"], Role.LEADER, area=world.town)
    response = browser(people[who]).post(
        role_url("changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    remaining = RoleAssignment.objects.filter(pk__in=[first.pk, second.pk]).count()
    if who != "secadmin":
        assert response.status_code == 403 and remaining == 2
        return
    assert response.status_code == 302 and remaining == 0
    records = role_records("role.revoked")
    assert len(records) == 2
    assert {(r.actor, r.ip) for r in records} == {(people["secadmin"], ADDRESS)}


# ------------------------------------------------------------ workstations


def workstation_post(client, station, **changes):
    data = {
        "grid": station.grid_id,
        "name": station.name,
        "address": "",
        "phone": "",
        "commander": station.commander_id or "",
        "grid_leader": station.grid_leader_id or "",
        "deputy_commanders": [str(p.pk) for p in station.deputy_commanders.all()],
        **changes,
    }
    url = reverse("admin:grids_workstation_change", args=[station.pk])
    return client.post(url, data)


@pytest.mark.parametrize("who", (*ADMINS, "superuser"))
def test_a_workstation_names_no_administrator_account(people, world, who):
    station = Workstation.objects.get(grid=world.grid)
    client = browser(people[who])
    before = state()
    attempts = [
        {"commander": people[who].pk},
        {"grid_leader": people["auditadmin"].pk},
        {"commander": people["secadmin"].pk, "grid_leader": people["sysadmin"].pk},
        {"deputy_commanders": [str(people["superuser"].pk)]},
    ]
    for changes in attempts:
        response = workstation_post(client, station, **changes)
        assert refused(response), (who, changes, response.status_code)
    assert state() == before


def test_the_system_administrator_names_an_ordinary_commander_audited(people, world):
    station = Workstation.objects.get(grid=world.grid)
    response = workstation_post(
        browser(people["sysadmin"]), station, commander=people["business"].pk
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(
        user=people["business"], role=Role.COMMANDER, area=world.grid
    ).exists()
    [record] = role_records()
    assert (record.actor, record.ip, record.details["via"]) == (
        people["sysadmin"],
        ADDRESS,
        "workstation",
    )


# ------------------------------------------------------------ the staff spreadsheet


def staff_sheet(*rows) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=StaffMembershipResource().get_export_headers())


def bad_staff_rows(people) -> list[list]:
    """Rows that create, rename or promote: each must be refused."""
    return [
        ["nobody01", "新人", "CG", "队员", "13800000001", "是", "是"],  # unknown: not created
        ["shenji_t", "审计员", "CG", "队员", "13800000002", "是", "是"],  # an administrator
        ["xitong_x", "", "CG", "队员", "", "是", "是"],  # unknown too
        ["sysadmin", "周管理", "SW", "队员", "13800000003", "是", "是"],  # the importer itself
        ["root", "超级管理员", "SW", "队员", "13800000004", "是", "是"],  # a superuser
        ["stranger", "改过的名字", "SW", "队员", "13800000005", "是", "是"],  # a rename
    ]


def admin_import(client, dataset):
    return client.post(
        reverse("admin:departments_staffmembership_import"),
        {
            "resource": 0,
            "format": 1,
            "import_file": SimpleUploadedFile(
                "staff.csv", dataset.export("csv").encode(), content_type="text/csv"
            ),
        },
    )


@pytest.mark.parametrize("who", ADMINS)
def test_the_staff_import_creates_renames_and_promotes_nobody(people, who):
    client = browser(people[who])
    before = state()
    rows = bad_staff_rows(people)
    # One good row with the bad ones: all or nothing.
    good = ["stranger", "路人", "SW", "队员", "13800000009", "是", "是"]
    response = admin_import(client, staff_sheet(good, *rows))
    if who != "sysadmin":
        assert response.status_code == 403
    else:
        assert response.status_code == 200 and response.context.get("confirm_form") is None
        result = response.context["result"]
        reported = {r.number for r in result.invalid_rows} | {n for n, _ in result.row_errors()}
        assert reported == set(range(2, len(rows) + 2)), reported
    assert state() == before
    assert not User.objects.filter(username__in=["nobody01", "xitong_x"]).exists()


def test_the_system_administrator_imports_ordinary_staff_audited(people):
    client = browser(people["sysadmin"])
    good = ["stranger", "路人", "SW", "队员", "13800000009", "是", "是"]
    preview = admin_import(client, staff_sheet(good))
    confirm = preview.context["confirm_form"]
    response = client.post(
        reverse("admin:departments_staffmembership_process_import"), confirm.initial
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(
        user=people["business"], role=Role.STAFF, department__code="SW"
    ).exists()
    [record] = role_records()
    assert (record.actor, record.ip, record.details["via"]) == (
        people["sysadmin"],
        ADDRESS,
        "staff",
    )


@pytest.mark.parametrize("who", ADMINS)
def test_import_sheet_refuses_the_same_rows_for_each_administrator(people, who, tmp_path):
    path = tmp_path / "staff.csv"
    before = state()
    for row in bad_staff_rows(people):
        path.write_text(staff_sheet(row).export("csv"), encoding="utf-8")
        err = io.StringIO()
        with pytest.raises(CommandError) as refusal:
            call_command(
                *("import_sheet", "staff", str(path), "--actor", people[who].username),
                stdout=io.StringIO(),
                stderr=err,
            )
        if who == "sysadmin":  # may import staff: the row itself is refused
            assert "第 1 条数据" in err.getvalue(), (row, err.getvalue())
        else:  # may not import staff at all
            assert people[who].username in str(refusal.value)
    with pytest.raises(CommandError) as anonymous:  # who imports must be said
        call_command("import_sheet", "staff", str(path), stderr=io.StringIO())
    assert "--actor" in str(anonymous.value)
    assert state() == before


def test_import_sheet_names_ordinary_staff_audited(people, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(
        staff_sheet(["stranger", "路人", "SW", "队员", "13800000009", "是", "是"]).export("csv"),
        encoding="utf-8",
    )
    call_command("import_sheet", "staff", str(path), "--actor", "sysadmin", stdout=io.StringIO())
    [record] = role_records()
    assert (record.actor, record.details["via"]) == (people["sysadmin"], "staff")


# ------------------------------------------------------------ groups and the service itself


def test_a_groups_permissions_are_set_by_a_superuser_only(people):
    group = Group.objects.create(name="值班人员")
    url = reverse("admin:auth_group_change", args=[group.pk])
    everything = [str(p.pk) for p in Permission.objects.all()]
    response = browser(people["secadmin"]).post(
        url, {"name": "值班人员", "permissions": everything}
    )
    assert response.status_code in (200, 302)
    assert not group.permissions.exists()


def test_role_rows_written_around_the_service_are_still_recorded_once(people):
    direct = RoleAssignment.objects.create(user=people["business"], role=Role.AUDITOR)
    [record] = AuditRecord.objects.filter(action="role.granted", object_id=str(direct.pk))
    assert record.details["outside_service"] is True
    services.revoke_role(direct, actor=people["secadmin"], ip="10.0.0.1")
    [revoked] = role_records("role.revoked")
    assert (revoked.actor, revoked.ip) == (people["secadmin"], "10.0.0.1")
    assert "outside_service" not in revoked.details


def test_bulk_grants_keep_the_rules_and_are_audited(people):
    business, root = people["business"], people["superuser"]
    with pytest.raises(services.SeparationRefused):
        services.grant_roles_in_bulk(
            [RoleAssignment(user=business, role=Role.AUDITOR)], actor=people["secadmin"], via="t"
        )
    with pytest.raises(services.SeparationRefused) as mixed:
        services.grant_roles_in_bulk(
            [
                RoleAssignment(user=business, role=Role.AUDITOR),
                RoleAssignment(user=business, role=Role.SYSADMIN),
            ],
            actor=root,
            via="t",
        )
    assert mixed.value.code == "role.admin_holds_no_business_role"
    assert not business.role_assignments.exists()
    assert (
        services.grant_roles_in_bulk(
            [RoleAssignment(user=business, role=Role.AUDITOR)], actor=root, via="t"
        )
        == 1
    )
    [record] = AuditRecord.objects.filter(action="role.granted_in_bulk")
    assert record.actor == root and record.details["count"] == 1


@pytest.mark.parametrize("who", ADMINS)
def test_no_administrator_removes_an_administrators_or_their_own_authenticator(people, who):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = {
        name: TOTPDevice.objects.create(user=people[name], name="phone", confirmed=True)
        for name in (*ADMINS, "superuser", "business")
    }
    client = browser(people[who])
    for name in (*ADMINS, "superuser"):
        url = reverse("admin:otp_totp_totpdevice_delete", args=[devices[name].pk])
        # Refused, or (for the security administrator, who sees only devices of
        # accounts it may manage) not even found: sent back to the index.
        assert client.post(url, {"post": "yes"}).status_code in (302, 403), (who, name)
    business = reverse("admin:otp_totp_totpdevice_delete", args=[devices["business"].pk])
    answer = client.post(business, {"post": "yes"}).status_code
    assert answer == (302 if who == "secadmin" else 403)
    assert TOTPDevice.objects.count() == (4 if who == "secadmin" else 5)


@pytest.mark.parametrize("who", ADMINS)
def test_the_workstation_import_names_no_administrator_account(people, world, who, tmp_path):
    from grids.resources import WorkstationResource

    headers = WorkstationResource().get_export_headers()
    path = tmp_path / "workstations.csv"
    before = state()
    for commander, leader in (("shenji_t", ""), ("", "anquan_t"), (people[who].username, "")):
        row = [world.grid.code, "南桥第一网格工作站", "", "", commander, leader, ""]
        path.write_text(tablib.Dataset(row, headers=headers).export("csv"), encoding="utf-8")
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command(
                *("import_sheet", "workstations", str(path), "--actor", people[who].username),
                stdout=io.StringIO(),
                stderr=err,
            )
        if who == "sysadmin":
            assert "第 1 条数据" in err.getvalue(), err.getvalue()
    assert state() == before


@pytest.mark.parametrize("who", (*ADMINS, "superuser"))
def test_no_administrator_account_joins_a_departments_staff_in_the_admin(people, world, who):
    client, root = browser(people[who]), browser(people["superuser"])
    department_url = reverse("admin:departments_department_change", args=[world.dept_b.pk])
    before = state()
    for person in ("auditadmin", "secadmin", "sysadmin", who):
        data = form_data(root.get(department_url))
        n = int(data["memberships-TOTAL_FORMS"])
        data.update(
            {
                "memberships-TOTAL_FORMS": str(n + 1),
                f"memberships-{n}-user": str(people[person].pk),
                f"memberships-{n}-title": "科员",
                f"memberships-{n}-phone": "13800000007",
                f"memberships-{n}-on_duty": "on",
                f"memberships-{n}-is_active": "on",
                f"memberships-{n}-department": str(world.dept_b.pk),
            }
        )
        assert refused(client.post(department_url, data)), (who, person)
        response = client.post(
            reverse("admin:departments_staffmembership_add"),
            {
                "user": people[person].pk,
                "department": world.dept_b.pk,
                "title": "科员",
                "phone": "13800000007",
                "on_duty": "on",
                "is_active": "on",
            },
        )
        assert refused(response), (who, person, response.status_code)
    assert state() == before


# ------------------------------------------------------------------ credentials in the admin


def test_no_admin_page_shows_a_refresh_token(people, world):
    """A refresh token is a login as its owner: no reader of the admin sees one, and the
    table behind it keeps none whole (a row read from the database is no login)."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    from tests.api.client import login

    login(world.commander)
    ended = login(world.auditor)
    assert (
        ended.post(
            reverse("api:logout"), {"refresh": ended.refresh_token}, format="json"
        ).status_code
        == 204
    )
    live = login(world.auditor)
    tokens = [live.refresh_token, ended.refresh_token]
    signatures = [t.rsplit(".", 1)[1] for t in tokens]
    row = OutstandingToken.objects.filter(user=world.auditor).latest("id")
    spent = BlacklistedToken.objects.get(token__user=world.auditor)
    pages = [
        reverse("admin:token_blacklist_outstandingtoken_changelist"),
        reverse("admin:token_blacklist_outstandingtoken_change", args=[row.pk]),
        reverse("admin:token_blacklist_blacklistedtoken_changelist"),
        reverse("admin:token_blacklist_blacklistedtoken_change", args=[spent.pk]),
        reverse("admin:accounts_user_change", args=[world.auditor.pk]),
    ]
    seen = 0
    for reader in ("secadmin", "auditadmin", "superuser"):
        client = browser(people[reader])
        for url in pages:
            page = client.get(url)
            if page.status_code != 200:
                continue
            seen += 1
            text = page.content.decode()
            assert not any(s in text for s in signatures), (reader, url)
    assert seen >= 8  # the security administrator and the superuser do read these pages
    assert not OutstandingToken.objects.filter(token__contains=signatures[0]).exists()
    listing = browser(people["secadmin"]).get(pages[0]).content.decode()
    assert str(world.auditor) in listing  # who holds logins is still shown


@pytest.mark.parametrize("victim_name", ["auditadmin", "superuser"])
def test_the_security_administrator_reads_no_other_administrators_second_factor(
    people, victim_name
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import twofactor
    from tests.factories import authenticator_code

    victim = people[victim_name]
    device = twofactor.pending_device(victim)
    codes = twofactor.confirm(victim, device, authenticator_code(device))
    assert codes
    client = browser(people["secadmin"])
    static = victim.staticdevice_set.get()
    for url in (
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_totp_totpdevice_config", args=[device.pk]),
        reverse("admin:otp_static_staticdevice_change", args=[static.pk]),
    ):
        page = client.get(url)
        text = page.content.decode() if page.status_code == 200 else ""
        assert device.key not in text and not any(c in text for c in codes), url
    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert listing.status_code == 200
    assert str(victim) not in listing.content.decode()
    # An account it may manage: its device is listed and opens, without its key.
    staff = people["staff"]
    theirs = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    assert (
        str(staff) in client.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    )
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[theirs.pk]))
    assert page.status_code == 200 and theirs.key not in page.content.decode()
