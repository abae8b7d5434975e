"""The audit log's write path (issue 16): requests append sealed pending records, the
sequencer chains them, and neither a pending nor a chained record can be changed unseen."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import services as audit
from audit.models import AuditRecord, ChainHead
from cases import services as case_services
from tests.audit.test_audit import raw

pytestmark = pytest.mark.django_db
TIMEOUT = 30  # seconds: every wait on a thread or an event in these tests


def audit_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "audit_" in q["sql"]]


def test_an_audited_write_is_one_insert_and_locks_no_shared_row():
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        entry = audit.record("test.write", details={"n": 1})
    sql = audit_queries(captured.captured_queries)
    assert len(sql) == 1 and sql[0].startswith("INSERT INTO")
    assert entry.sequence is None and entry.digest is None  # pending until the sequencer
    assert entry.entry_mac == audit.entry_mac_of(entry)


def test_a_case_step_touches_the_audit_tables_only_by_inserting(world, case_in, settings):
    """The old write path locked the chain head (``SELECT ... FOR UPDATE``) twice per request."""
    case = case_in("pending_review")
    with CaptureQueriesContext(connection) as captured:
        case_services.approve_case(case, actor=world.commander)
    sql = audit_queries(captured.captured_queries)
    assert sql, "the step was audited"
    assert all(q.startswith("INSERT INTO") for q in sql), sql
    assert not any("audit_chainhead" in q or "FOR UPDATE" in q for q in sql)


def test_the_sequencer_chains_pending_records_in_order_once(world, case_in):
    case_in("dispatched")
    pending = list(AuditRecord.objects.order_by("id").values_list("id", flat=True))
    assert not AuditRecord.objects.filter(sequence__isnull=False).exists()
    assert audit.first_broken_link() is None  # pending records verify by their seals
    assert audit.sequence_pending(batch_size=2) == len(pending)  # several batches
    assert audit.sequence_pending() == 0  # nothing twice
    chained = list(AuditRecord.objects.order_by("sequence").values_list("id", "sequence"))
    assert chained == [(pk, n) for n, pk in enumerate(pending, start=1)]
    head = ChainHead.objects.get()
    assert (head.sequence, head.last_id) == (len(pending), pending[-1])
    assert audit.first_broken_link() is None


def test_a_commit_chains_its_records_in_process(settings, django_capture_on_commit_callbacks):
    """The embedded default (no Celery worker): the committing process runs the sequencer."""
    settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT = "inline"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        audit.record("first.one")
        audit.record("second.one")
    assert len(callbacks) == 1  # one kick per transaction, however many records
    assert not AuditRecord.objects.filter(sequence__isnull=True).exists()


def test_a_pending_record_changed_is_caught(world):
    audit.sequence_pending()  # the world's own records
    entry = audit.record("auth.login", actor=world.official, ip="10.1.2.3")
    raw("UPDATE audit_auditrecord SET ip = %s WHERE id = %s", ["10.9.9.9", entry.pk])
    broken = (entry.pk, "its content was changed while it waited to be chained")
    assert audit.first_broken_link() == broken
    # Chained as found, the change stays visible: the seal no longer matches.
    assert audit.sequence_pending() == 1
    assert audit.first_broken_link() == (entry.pk, "its content was changed before it was chained")


def test_a_record_forged_without_the_key_is_caught(world):
    audit.record("real.one")
    audit.sequence_pending()
    raw(
        "INSERT INTO audit_auditrecord (created_at, actor_name, action, object_type, object_id,"
        " object_repr, success, details, token, entry_mac, previous_digest)"
        " VALUES (%s, 'official', 'auth.login', '', '', '', %s, '{}', 'x', %s, '')",
        [timezone.now(), True, "f" * 64],
    )
    forged = AuditRecord.objects.get(action="auth.login")
    assert audit.first_broken_link() == (
        forged.pk,
        "its content was changed while it waited to be chained",
    )
    with pytest.raises(CommandError, match=f"record {forged.pk}"):
        call_command("audit_verify")


def test_a_chained_record_made_to_look_pending_is_caught(world, case_in):
    case_in("dispatched")
    audit.sequence_pending()
    entries = list(AuditRecord.objects.order_by("sequence"))
    raw(
        "UPDATE audit_auditrecord SET sequence = NULL, digest = NULL, previous_digest = ''"
        " WHERE id = %s",
        [entries[1].pk],
    )
    assert audit.first_broken_link() == (
        entries[2].pk,
        "the record before it was changed or removed",
    )


def test_verify_reports_pending_records_and_warns_past_the_bound(monkeypatch, settings):
    settings.JINSHAO_AUDIT_PENDING_MAX_SECONDS = 10
    past = timezone.now() - timedelta(seconds=60)
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: past)
        audit.record("old.pending")
    out, err = io.StringIO(), io.StringIO()
    call_command("audit_verify", stdout=out, stderr=err)
    assert "(1 pending, oldest 6" in out.getvalue()
    assert "is the sequencer running" in err.getvalue()
    out = io.StringIO()
    call_command("audit_sequence", stdout=out)
    assert out.getvalue().startswith("Chained 1 audit records; 0 pending")


def test_the_admin_shows_pending_records_as_awaiting_chaining(world, client):
    from django.utils.translation import gettext

    from accounts.choices import Role
    from tests.factories import UserFactory, grant

    auditor_admin = UserFactory(username="shenji_p", is_staff=True)
    grant(auditor_admin, Role.AUDITADMIN)
    audit.record("pending.one")
    client.force_login(auditor_admin)
    url = reverse("admin:audit_auditrecord_changelist")
    listed = client.get(url).content.decode()
    assert gettext("Awaiting chaining") in listed
    assert client.get(url, {"chained": "no"}).status_code == 200
    entry = AuditRecord.objects.get(action="pending.one")
    shown = client.get(reverse("admin:audit_auditrecord_change", args=[entry.pk]))
    assert gettext("Awaiting chaining") in shown.content.decode()
    export = client.get(reverse("admin:audit_auditrecord_export"), {"action": "pending.one"})
    body = b"".join(export.streaming_content).decode("utf-8-sig").strip().splitlines()
    row = body[1].split(",")
    assert row[1] == "" and "None" not in body[1]  # no sequence, no digest yet


# PostgreSQL: real concurrent connections.


def in_threads(calls, *, timeout: float = TIMEOUT) -> list:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls), timeout=timeout)
    outcomes: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread hung"
    return outcomes


def assert_chained_once_without_gap(count: int) -> None:
    numbers = list(AuditRecord.objects.order_by("sequence").values_list("sequence", flat=True))
    assert numbers == list(range(1, count + 1))
    assert ChainHead.objects.get().sequence == count
    assert audit.first_broken_link() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_are_all_chained_once_with_no_gap(settings):
    """Twelve requests at once, each committing records and kicking the sequencer."""
    settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT = "inline"

    def request(n: int) -> None:
        for k in range(5):
            with transaction.atomic():
                audit.record("test.concurrent", details={"writer": n, "k": k})
                audit.record("test.concurrent.read", details={"writer": n, "k": k})

    outcomes = in_threads([lambda n=n: request(n) for n in range(12)])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    audit.sequence_pending(wait=True)  # what beat would pick up a moment later
    assert_chained_once_without_gap(12 * 5 * 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sequencers_running_at_once_never_give_a_number_twice(settings):
    settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT = "off"
    for n in range(90):
        audit.record("test.queued", details={"n": n})
    outcomes = in_threads(
        [lambda: audit.sequence_pending(wait=True, batch_size=7) for _ in range(4)]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(outcomes) == 90
    assert_chained_once_without_gap(90)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_busy_sequencer_makes_the_next_one_leave_at_once(settings):
    """SKIP LOCKED: while one sequencer holds the head, another chains nothing and returns."""
    settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT = "off"
    audit.record("test.waiting")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                ChainHead.objects.select_for_update().get(pk=1)
                holding.set()
                assert release.wait(TIMEOUT)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(TIMEOUT)
        assert audit.sequence_pending() == 0
        assert AuditRecord.objects.get().sequence is None
        audit.record("test.meanwhile")  # a request is not held up by the sequencer's lock
    finally:
        release.set()
        holder.join(TIMEOUT)
    assert audit.sequence_pending() == 2


@pytest.mark.postgres
def test_postgresql_admits_only_the_sequencers_update():
    from django.db import DatabaseError

    entry = audit.record("test.trigger")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditrecord SET action = 'other', sequence = 1, digest = 'x'"
            " WHERE id = %s",
            [entry.pk],
        )
    assert audit.sequence_pending() == 1
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditrecord SET sequence = 99 WHERE id = %s", [entry.pk])
    assert audit.first_broken_link() is None
