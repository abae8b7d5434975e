"""The audit log: what it records, that it cannot be changed, and that changes are caught."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from audit import services as audit
from audit.models import AppendOnly, AuditRecord, ChainHead
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


@pytest.mark.postgres  # the trigger is PostgreSQL's
def test_postgresql_refuses_raw_changes_too(world, case_in):
    from django.db import DatabaseError, transaction

    case_in("pending_review")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditrecord SET action = 'nothing'")
    newest = AuditRecord.objects.order_by("-sequence").first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditrecord WHERE id = %s", [newest.pk])


def test_a_row_changed_by_hand_is_caught(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    entries = list(AuditRecord.objects.order_by("id"))
    assert len(entries) >= 3
    victim = entries[1]
    raw("UPDATE audit_auditrecord SET actor_name = %s WHERE id = %s", ["someone_else", victim.pk])
    assert audit.first_broken_link() == (victim.pk, "its content was changed")
    with pytest.raises(CommandError, match=f"record {victim.pk}"):
        call_command("audit_verify")


def test_a_row_deleted_by_hand_is_caught(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    entries = list(AuditRecord.objects.order_by("id"))
    raw("DELETE FROM audit_auditrecord WHERE id = %s", [entries[1].pk])
    assert audit.first_broken_link() == (
        entries[2].pk,
        "the record before it was changed or removed",
    )


def test_the_newest_rows_deleted_by_hand_are_caught(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
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


def backdate(entries, days: int) -> None:
    """Make ``entries`` ``days`` old, re-chaining and re-signing with the key.

    Only the key's holder could do this: the test plays time passing, so that
    a legitimate purge has something old enough to remove.
    """
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(days=days)
    for n, entry in enumerate(entries):
        raw(
            "UPDATE audit_auditrecord SET created_at = %s WHERE id = %s",
            [long_ago + timedelta(seconds=n), entry.pk],
        )
    previous = audit.ZERO
    for entry in AuditRecord.objects.order_by("sequence"):
        entry.previous_digest = previous
        digest = audit.digest_of(entry)
        raw(
            "UPDATE audit_auditrecord SET previous_digest = %s, digest = %s, entry_mac = %s"
            " WHERE id = %s",
            [previous, digest, audit.entry_mac_of(entry), entry.pk],
        )
        previous = digest
    head = ChainHead.objects.get()
    raw(
        "UPDATE audit_chainhead SET digest = %s, signature = %s WHERE id = 1",
        [previous, audit.head_signature(previous, head.sequence, head.last_id)],
    )
    assert audit.first_broken_link() is None


def test_old_records_are_purged_auditably_and_the_chain_still_holds(world, case_in):
    from datetime import timedelta

    from django.utils import timezone

    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    old = list(AuditRecord.objects.order_by("sequence"))[:3]
    backdate(old, days=400)

    with pytest.raises(CommandError, match="180"):
        call_command("audit_purge", "--before", timezone.localdate().isoformat())
    call_command(
        "audit_purge", "--before", (timezone.localdate() - timedelta(days=200)).isoformat()
    )
    assert not AuditRecord.objects.filter(pk__in=[e.pk for e in old]).exists()
    purge = AuditRecord.objects.get(action="audit.purge")
    assert purge.details["removed"] == 3 and purge.details["first_kept"] == 4
    assert audit.first_broken_link() is None  # the kept records verify from the anchor
    head = ChainHead.objects.get()
    assert head.anchor != audit.ZERO and head.first_sequence == 4
    assert head.purge_sequence == purge.sequence
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact" in out.getvalue() and f"sequence {head.sequence}" in out.getvalue()
    audit.record("after.purge")  # the log goes on after a purge
    assert audit.sequence_pending() == 1
    assert audit.first_broken_link() is None


def test_a_purge_of_every_record_still_verifies(world, case_in):
    from datetime import timedelta

    from django.utils import timezone

    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    everything = list(AuditRecord.objects.order_by("sequence"))
    backdate(everything, days=400)
    assert audit.purge(before=timezone.now() - timedelta(days=200)) == len(everything)
    assert list(AuditRecord.objects.values_list("action", flat=True)) == ["audit.purge"]
    assert audit.first_broken_link() is None


# The three attacks of issue 12 by someone with the database but not the key.


def test_the_newest_rows_removed_and_the_head_moved_back_are_caught(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    entries = list(AuditRecord.objects.order_by("sequence"))
    kept = entries[-3]
    raw("DELETE FROM audit_auditrecord WHERE sequence > %s", [kept.sequence])
    raw(
        "UPDATE audit_chainhead SET digest = %s, sequence = %s, last_id = %s WHERE id = 1",
        [kept.digest, kept.sequence, kept.pk],
    )
    assert audit.first_broken_link() == (
        kept.pk,
        "the chain head was changed: its signature does not match",
    )
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("audit_verify")
    # Nor can the sequencer be made to sign the moved head by chaining the next record.
    audit.record("cover.up")
    with pytest.raises(audit.ChainBroken):
        audit.sequence_pending()
    assert AuditRecord.objects.get(action="cover.up").sequence is None
    assert audit.first_broken_link() is not None


def test_young_old_rows_removed_and_the_anchor_moved_are_caught(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    entries = list(AuditRecord.objects.order_by("sequence"))
    first_kept = entries[2]
    raw("DELETE FROM audit_auditrecord WHERE sequence < %s", [first_kept.sequence])
    # Left where it was, the anchor no longer leads to the oldest record.
    assert audit.first_broken_link() == (
        first_kept.pk,
        "records before it were removed: it does not follow the anchor",
    )
    # Moved to it, the anchor's signature no longer matches.
    raw(
        "UPDATE audit_chainhead SET anchor = %s, first_sequence = %s WHERE id = 1",
        [first_kept.previous_digest, first_kept.sequence],
    )
    assert audit.first_broken_link() == (0, "the anchor was changed: its signature does not match")
    with pytest.raises(CommandError, match="at its ends: the anchor was changed"):
        call_command("audit_verify")


def test_young_rows_removed_after_a_real_purge_are_caught(world, case_in):
    from datetime import timedelta

    from django.utils import timezone

    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    backdate(list(AuditRecord.objects.order_by("sequence"))[:2], days=400)
    audit.purge(before=timezone.now() - timedelta(days=200))
    head = ChainHead.objects.get()
    victim = AuditRecord.objects.get(sequence=head.first_sequence)
    follower = AuditRecord.objects.get(sequence=head.first_sequence + 1)
    raw("DELETE FROM audit_auditrecord WHERE id = %s", [victim.pk])
    # The real purge's signed anchor, re-used for a cut further on, does not fit.
    raw(
        "UPDATE audit_chainhead SET anchor = %s, first_sequence = %s WHERE id = 1",
        [follower.previous_digest, follower.sequence],
    )
    assert audit.first_broken_link() == (0, "the anchor was changed: its signature does not match")


def test_every_row_removed_is_caught(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    written = AuditRecord.objects.count()
    raw("DELETE FROM audit_auditrecord")
    assert audit.first_broken_link() == (0, f"all {written} records were removed")
    # Setting the head back to an empty log's needs the key.
    raw(
        "UPDATE audit_chainhead SET digest = %s, sequence = 0, last_id = 0 WHERE id = 1",
        [audit.ZERO],
    )
    assert audit.first_broken_link() == (
        0,
        "the chain head was changed: its signature does not match",
    )
    # And without a head the log reports so, and nothing more is written.
    raw("DELETE FROM audit_chainhead")
    assert audit.first_broken_link() == (
        0,
        "the chain head is missing: the log was removed or never set up",
    )
    with pytest.raises(CommandError, match="chain head is missing"):
        call_command("audit_verify")
    audit.record("cover.up")
    with pytest.raises(audit.ChainBroken):
        audit.sequence_pending()
    with pytest.raises(CommandError, match="chain head is missing"):
        call_command("audit_sequence")


def test_a_rollback_to_a_copied_head_needs_a_copy_kept_elsewhere(world, case_in):
    """The limit, pinned: an old head copied earlier verifies; ``--at-least`` catches it."""
    case_in("pending_review")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    copied = ChainHead.objects.values("digest", "sequence", "last_id", "signature").get()
    assert f"sequence {copied['sequence']}," in out.getvalue()
    audit.record("later.one")
    audit.record("later.two")
    audit.sequence_pending()
    raw("DELETE FROM audit_auditrecord WHERE sequence > %s", [copied["sequence"]])
    raw(
        "UPDATE audit_chainhead SET digest = %s, sequence = %s, last_id = %s, signature = %s"
        " WHERE id = 1",
        [copied["digest"], copied["sequence"], copied["last_id"], copied["signature"]],
    )
    assert audit.first_broken_link() is None  # the database alone cannot tell
    with pytest.raises(CommandError, match="rolled back"):
        call_command("audit_verify", "--at-least", str(copied["sequence"] + 2))


def test_records_carry_consecutive_sequence_numbers(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()  # chained, as the sequencer would have after the commit
    numbers = list(AuditRecord.objects.order_by("id").values_list("sequence", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert ChainHead.objects.get().sequence == numbers[-1]


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
    assert lines[0].startswith("id,sequence,created_at,actor_name")
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


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_and_signs_an_existing_log(settings):
    """A log written before sequence numbers verifies after migrating, and still shows cuts."""
    settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT = "inline"
    from django.db.migrations.executor import MigrationExecutor

    before = [("audit", "0004_purge_past_retention")]
    latest = [("audit", "0009_seal_required")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Record, Head = old.get_model("audit", "AuditRecord"), old.get_model("audit", "ChainHead")
    previous = audit.ZERO
    for n in range(3):
        entry = Record(action=f"old.{n}", previous_digest=previous, details={})
        entry.digest = audit.digest_of(entry)
        entry.save()
        previous = entry.digest
    Head.objects.update_or_create(pk=1, defaults={"digest": previous})
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)
    assert list(AuditRecord.objects.order_by("id").values_list("sequence", flat=True)) == [1, 2, 3]
    assert audit.first_broken_link() is None
    audit.record("new.one")
    assert audit.first_broken_link() is None
    # Committed at once (no test transaction here): chained on commit, in-process.
    assert AuditRecord.objects.get(action="new.one").sequence == 4
    assert audit.first_broken_link() is None
    raw("DELETE FROM audit_auditrecord WHERE sequence = 1")
    assert audit.first_broken_link()[1].startswith("records before it were removed")
