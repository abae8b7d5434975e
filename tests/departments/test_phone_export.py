"""Staff phones in spreadsheets: masked unless the reader may see them whole (then
audited), and a masked number read back never replaces the real one."""

from __future__ import annotations

import pytest
import tablib
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from audit.models import AuditRecord
from departments.models import StaffMembership
from departments.resources import StaffMembershipResource

pytestmark = pytest.mark.django_db

CSV = 1  # IMPORT_EXPORT_FORMATS: xlsx, csv


@pytest.fixture
def phones(world) -> dict[str, str]:
    numbers = {"staff_a": "13812345678", "staff_a2": "13900001111", "staff_b": "13711112222"}
    for username, number in numbers.items():
        membership = StaffMembership.objects.get(user__username=username)
        membership.phone = number  # through save(): encrypted, with its digest
        membership.save()
    return numbers


@pytest.fixture
def directory_reader(world):
    """Reads (and so exports) the staff list, without the right to see phones whole."""
    reader = world.head_a
    reader.is_staff = True
    reader.save()
    group = Group.objects.create(name="directory readers")
    group.permissions.add(Permission.objects.get(codename="view_staffmembership"))
    reader.groups.add(group)
    return reader


def column(name: str) -> str:
    with translation.override("zh-hans"):
        return str(StaffMembershipResource.fields[name].column_name)


def export(client, user) -> tablib.Dataset:
    client.force_login(user)
    fields = {f"staffmembershipresource_{name}": True for name in StaffMembershipResource.fields}
    response = client.post(
        reverse("admin:departments_staffmembership_export"),
        {"format": CSV, "resource": 0, **fields},
    )
    assert response.status_code == 200, response.content[:2000]
    return tablib.Dataset().load(response.content.decode(), format="csv")


def stored_phones() -> dict[str, str]:
    return {m.user.username: m.phone for m in StaffMembership.objects.select_related("user")}


def test_the_export_masks_phones_unless_the_reader_may_see_them(
    world, client, phones, directory_reader
):
    masked = export(client, directory_reader)
    assert set(masked[column("phone")]) == {"138****5678", "139****1111", "137****2222"}
    assert not AuditRecord.objects.filter(action="personal_data.view").exists()

    world.sysadmin.is_staff = True
    world.sysadmin.save()
    whole = export(client, world.sysadmin)  # the system administrator's role holds the right
    assert set(whole[column("phone")]) == set(phones.values())
    seen = AuditRecord.objects.get(action="personal_data.view")
    assert seen.actor == world.sysadmin
    assert (seen.details["what"], seen.details["rows"]) == ("staff_export", 3)


def test_a_masked_export_read_back_keeps_the_stored_phones(world, client, phones, directory_reader):
    sheet = export(client, directory_reader)
    rows = sheet.dict
    for row in rows:  # someone fixes the duty roster in the masked file
        if row[column("username")] == "staff_a":
            row[column("on_duty")] = "否"
    edited = tablib.Dataset(headers=sheet.headers)
    for row in rows:
        edited.append([row[h] for h in sheet.headers])

    client.force_login(world.superuser)
    preview = client.post(
        reverse("admin:departments_staffmembership_import"),
        {
            "resource": 0,
            "format": CSV,
            "import_file": SimpleUploadedFile(
                "staff.csv", edited.export("csv").encode(), content_type="text/csv"
            ),
        },
    )
    assert preview.status_code == 200 and preview.context.get("confirm_form"), preview.context.get(
        "result"
    )
    done = client.post(
        reverse("admin:departments_staffmembership_process_import"),
        preview.context["confirm_form"].initial,
    )
    assert done.status_code == 302
    assert stored_phones() == phones  # no number became 138****5678
    assert not StaffMembership.objects.get(user=world.staff_a).on_duty  # the edit went in


def test_a_masked_phone_is_refused_for_a_new_membership(world, phones):
    headers = StaffMembershipResource().get_export_headers()
    sheet = tablib.Dataset(
        ["stranger", "路人", "CG", "队员", "136****9999", "是", "是"], headers=headers
    )
    result = StaffMembershipResource(actor=world.superuser).import_data(sheet)
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert "136****9999" in str(invalid.error_dict["phone"])
    assert not StaffMembership.objects.filter(user__username="n001").exists()
    assert stored_phones() == phones
