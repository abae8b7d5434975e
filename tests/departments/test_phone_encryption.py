"""Staff phone numbers are encrypted at rest and found by a keyed digest."""

from __future__ import annotations

import pytest
from django.db import connection

from core.crypto import digest
from departments.models import StaffMembership

pytestmark = pytest.mark.django_db


def raw_phone(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, phone_digest FROM departments_staffmembership WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def test_the_database_never_holds_the_number(world):
    membership = world.staff_a.memberships.get()
    membership.phone = "13812345678"
    membership.save()
    stored, stored_digest = raw_phone(membership.pk)
    assert "13812345678" not in stored and "5678" not in stored
    assert StaffMembership.objects.get(pk=membership.pk).phone == "13812345678"
    assert stored_digest == digest("138 1234 5678")  # separators do not matter


def test_a_number_is_found_by_its_digest_only(world):
    membership = world.staff_b.memberships.get()
    membership.phone = "13900001111"
    membership.save()
    assert list(StaffMembership.objects.filter(phone_digest=digest("13900001111"))) == [membership]
    assert not StaffMembership.objects.filter(phone="13900001111").exists()  # ciphertext differs


def test_the_same_number_encrypts_differently_each_time(world):
    a, b = world.staff_a.memberships.get(), world.staff_a2.memberships.get()
    for membership in (a, b):
        membership.phone = "13700002222"
        membership.save()
    assert raw_phone(a.pk)[0] != raw_phone(b.pk)[0]
    assert raw_phone(a.pk)[1] == raw_phone(b.pk)[1]


def test_the_admin_masks_phones_unless_the_reader_may_see_them(world, client):
    from django.contrib.auth.models import Group, Permission
    from django.urls import reverse

    from audit.models import AuditRecord

    membership = world.staff_a.memberships.get()
    membership.phone = "13812345678"
    membership.save()
    url = reverse("admin:departments_staffmembership_changelist")
    viewer = world.head_a
    viewer.is_staff = True
    viewer.save()
    readers = Group.objects.create(name="directory readers")
    readers.permissions.add(Permission.objects.get(codename="view_staffmembership"))
    viewer.groups.add(readers)
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    world.sysadmin.is_staff = True
    world.sysadmin.save()
    client.force_login(world.sysadmin)
    assert "13812345678" in client.get(url).content.decode()
    assert AuditRecord.objects.filter(action="personal_data.view", actor=world.sysadmin).exists()
    found = client.get(url, {"q": "138 1234 5678"}).content.decode()
    assert "13812345678" in found  # found through the digest of the encrypted number
