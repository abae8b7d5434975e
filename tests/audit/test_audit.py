"""The audit log: what it records, that it cannot be changed, and that changes are caught."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from audit import services as audit
from audit.models import AppendOnly, AuditRecord
from cases import services as case_services
from cases.models import Case
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
ON_POSTGRES = connection.vendor == "postgresql"


def raw(sql: str, params=()) -> None:
    """Change the table behind the application's back (as an intruder with SQL would)."""
    with connection.cursor() as cursor:
        if ON_POSTGRES:  # a superuser's session that fires no triggers
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if ON_POSTGRES:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_every_step_of_a_case_is_recorded_with_its_actor(world, case_in):
    case = case_in("pending_review")
    case_services.approve_case(case, actor=world.commander)
    entry = AuditRecord.objects.filter(action="case.approved").get()
    assert entry.actor == world.commander and entry.object_id == str(case.pk)
    assert entry.details["from"] == "pending_review" and entry.details["to"] == "dispatched"
    assert audit.first_broken_link() is None
    call_command("audit_verify")


def test_a_failed_audit_write_rolls_the_action_back(world, case_in, monkeypatch):
    case = case_in("pending_review")

    def broken(*args, **kwargs):
        raise RuntimeError("the audit table is full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        case_services.approve_case(case, actor=world.commander)
    case.refresh_from_db()
    assert case.state == "pending_review"


def test_the_orm_refuses_to_change_or_delete(world, case_in):
    case_in("pending_review")
    entry = AuditRecord.objects.first()
    with pytest.raises(AppendOnly):
        AuditRecord.objects.update(action="nothing")
    with pytest.raises(AppendOnly):
        AuditRecord.objects.all().delete()
    with pytest.raises(AppendOnly):
        entry.delete()
    entry.action = "nothing"
    with pytest.raises(AppendOnly):
        entry.save()


@pytest.mark.skipif(not ON_POSTGRES, reason="the trigger is PostgreSQL's (DATABASE_URL)")
def test_postgresql_refuses_raw_changes_too(world, case_in):
    from django.db import DatabaseError, transaction

    case_in("pending_review")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditrecord SET action = 'nothing'")


def test_a_row_changed_by_hand_is_caught(world, case_in):
    case_in("dispatched")
    entries = list(AuditRecord.objects.order_by("id"))
    assert len(entries) >= 3
    victim = entries[1]
    raw("UPDATE audit_auditrecord SET actor_name = %s WHERE id = %s", ["someone_else", victim.pk])
    assert audit.first_broken_link() == (victim.pk, "its content was changed")
    with pytest.raises(CommandError, match=f"record {victim.pk}"):
        call_command("audit_verify")


def test_a_row_deleted_by_hand_is_caught(world, case_in):
    case_in("dispatched")
    entries = list(AuditRecord.objects.order_by("id"))
    raw("DELETE FROM audit_auditrecord WHERE id = %s", [entries[1].pk])
    assert audit.first_broken_link() == (
        entries[2].pk,
        "the record before it was changed or removed",
    )


def test_the_newest_rows_deleted_by_hand_are_caught(world, case_in):
    case_in("dispatched")
    entries = list(AuditRecord.objects.order_by("id"))
    raw("DELETE FROM audit_auditrecord WHERE id = %s", [entries[-1].pk])
    assert audit.first_broken_link() == (entries[-2].pk, "records after it were removed")


def test_logins_and_logouts_are_recorded_with_the_address(world, client):
    phone = APIClient(REMOTE_ADDR="10.1.2.3")
    token = phone.post(
        reverse("api:token"), {"username": "official", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 200
    wrong = phone.post(
        reverse("api:token"), {"username": "official", "password": "nope"}, format="json"
    )
    assert wrong.status_code == 401
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {token.data['access']}")
    phone.post(reverse("api:logout"), {"refresh": token.data["refresh"]}, format="json")
    client.post(reverse("admin:login"), {"username": "root", "password": "Root-Pass-2024"})
    rows = list(
        AuditRecord.objects.filter(action__startswith="auth.")
        .order_by("id")
        .values_list("action", "actor_name", "ip", "success")
    )
    assert rows == [
        ("auth.login", "official", "10.1.2.3", True),
        ("auth.login_failed", "", "10.1.2.3", False),
        ("auth.logout", "official", "10.1.2.3", True),
        ("auth.login", "root", "127.0.0.1", True),
    ]
    failed = AuditRecord.objects.get(action="auth.login_failed")
    assert failed.details == {"username": "official"} and "nope" not in str(failed.details)


def test_only_the_audit_administrator_reads_the_log(world, client, case_in):
    from accounts.choices import Role
    from tests.factories import UserFactory, grant

    case_in("pending_review")
    auditor_admin = UserFactory(username="shenji_t", is_staff=True)
    grant(auditor_admin, Role.AUDITADMIN)
    world.sysadmin.is_staff = True
    world.sysadmin.save()
    url = reverse("admin:audit_auditrecord_changelist")
    client.force_login(auditor_admin)
    assert client.get(url).status_code == 200
    entry = AuditRecord.objects.first()
    change = client.get(reverse("admin:audit_auditrecord_change", args=[entry.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    client.force_login(world.sysadmin)
    assert client.get(url).status_code == 403
    assert Case.objects.exists()


def test_exports_downloads_unmasked_reads_roles_and_admin_changes_are_recorded(
    world, case_in, client, settings, tmp_path
):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from accounts.choices import Role
    from chat.services import post_attachment
    from tests.api.client import as_user
    from tests.factories import grant

    settings.MEDIA_ROOT = tmp_path
    case = case_in("in_progress", invite=("staff_a",))
    as_user(world.official).get(reverse("api:case-detail", args=[case.pk]))  # sees phones whole
    as_user(world.head_a).get(reverse("api:case-detail", args=[case.pk]))  # masked: nothing
    photo = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(photo, "PNG")
    posted = post_attachment(
        case,
        sender=world.official,
        kind="image",
        file=SimpleUploadedFile("p.png", photo.getvalue()),
    )
    url = reverse("api:message-attachment", args=[posted.message.pk])
    b"".join(as_user(world.staff_a).get(url).streaming_content)
    as_user(world.auditor).get(reverse("api:analytics-export", args=["cases"]), {"filetype": "csv"})
    grant(world.stranger, Role.AUDITOR)
    client.force_login(world.superuser)
    client.post(
        reverse("admin:templates_category_add"),
        {"code": "new-cat", "name": "新类别", "position": 0, "is_active": "on"},
    )
    seen = {
        (r.action, r.actor_name)
        for r in AuditRecord.objects.exclude(action__startswith="case.").exclude(
            action="auth.login"
        )
    }
    assert ("personal_data.view", "official") in seen
    assert not any(a == "personal_data.view" and who == "head_a" for a, who in seen)
    assert ("attachment.download", "staff_a") in seen
    assert ("export.cases", "auditor") in seen
    assert ("role.granted", "") in seen
    assert ("admin.added", "root") in seen
    assert audit.first_broken_link() is None


def test_old_records_are_purged_auditably_and_the_chain_still_holds(world, case_in):
    from datetime import timedelta

    from django.utils import timezone

    case_in("dispatched")
    old = list(AuditRecord.objects.order_by("id"))[:3]
    long_ago = timezone.now() - timedelta(days=400)
    for n, entry in enumerate(old):  # backdate (and re-chain) the first three, as if long ago
        raw(
            "UPDATE audit_auditrecord SET created_at = %s WHERE id = %s",
            [long_ago + timedelta(seconds=n), entry.pk],
        )
    previous = "0" * 64
    for entry in AuditRecord.objects.order_by("id"):
        entry.previous_digest = previous
        digest = audit.digest_of(entry)
        raw(
            "UPDATE audit_auditrecord SET previous_digest = %s, digest = %s WHERE id = %s",
            [previous, digest, entry.pk],
        )
        previous = digest
    from audit.models import ChainHead

    raw("UPDATE audit_chainhead SET digest = %s WHERE id = 1", [previous])
    assert audit.first_broken_link() is None

    with pytest.raises(CommandError, match="180"):
        call_command("audit_purge", "--before", timezone.localdate().isoformat())
    call_command(
        "audit_purge", "--before", (timezone.localdate() - timedelta(days=200)).isoformat()
    )
    assert not AuditRecord.objects.filter(pk__in=[e.pk for e in old]).exists()
    purge = AuditRecord.objects.get(action="audit.purge")
    assert purge.details["removed"] == 3
    assert audit.first_broken_link() is None  # the kept records verify from the anchor
    assert ChainHead.objects.get().anchor != "0" * 64


def test_the_audit_administrator_exports_what_the_list_shows(world, client, case_in):
    from accounts.choices import Role
    from tests.factories import UserFactory, grant

    case_in("pending_review")
    auditor_admin = UserFactory(username="shenji_x", is_staff=True)
    grant(auditor_admin, Role.AUDITADMIN)
    client.force_login(auditor_admin)
    response = client.get(reverse("admin:audit_auditrecord_export"), {"action": "case.submitted"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,created_at,actor_name")
    assert len(lines) == 2 and "case.submitted" in lines[1]
    assert AuditRecord.objects.filter(action="audit.export", actor=auditor_admin).exists()
    client.force_login(world.sysadmin)
    world.sysadmin.is_staff = True
    world.sysadmin.save()
    assert client.get(reverse("admin:audit_auditrecord_export")).status_code == 403


def test_imports_are_audited(world, tmp_path):
    from django.core.management import call_command

    from ratings.resources import CriterionResource

    headers = [str(h) for h in CriterionResource().get_export_headers()]
    sheet = tmp_path / "criteria.csv"
    values = {"代码": "speed", "名称": "办理速度", "权重": "1", "排序": "3", "启用": "是"}
    row = [values.get(h, "") for h in headers]
    sheet.write_text(",".join(headers) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    call_command("import_sheet", "criteria", str(sheet))
    entry = AuditRecord.objects.get(action="import.criterion")
    assert entry.success and entry.details["new"] == 1 and entry.details["rows"] == 1
