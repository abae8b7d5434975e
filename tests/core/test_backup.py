"""Backups restore: ``bin/backup`` then ``bin/restore`` into an empty database and media store.

What an operator's restore drill proves (docs/backup.md): every case, message,
attachment (same bytes) and audit record is found again by id in the new
database, ``audit_verify`` passes there with the district's key, the audit
log's append-only trigger came back, and a backup changed after it was written
(one media file, or the manifest) makes the restore fail instead of passing.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from chat import services as chat
from tests.chat.conftest import png_bytes

ROOT = Path(__file__).resolve().parents[2]
KEY_TABLES = ("cases_case", "chat_message", "chat_attachment", "audit_auditrecord")


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``bin/<script> args`` (or ``manage.py`` with ``script="manage"``) as an operator runs it."""
    command = (
        [str(ROOT / ".venv/bin/python"), str(ROOT / "manage.py"), *args]
        if script == "manage"
        else [str(ROOT / "bin" / script), *args]
    )
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def operator_env(**overrides: str) -> dict[str, str]:
    """This run's environment (its keys: the district's) with ``overrides``; no REDIS_URL needed."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(overrides)
    return env


# --- PostgreSQL ---------------------------------------------------------------------------


def _maintenance():
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def new_database() -> Iterator:
    """``new_database()`` → the URL of a new, empty PostgreSQL database; all dropped after."""
    made: list[str] = []
    db = connection.settings_dict

    def make() -> str:
        name = f"jinshao_restore_{secrets.token_hex(4)}"
        with _maintenance() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"

    yield make
    with _maintenance() as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def _ids(table: str, *, url: str | None = None) -> set[int]:
    query = f"SELECT id FROM {table}"
    if url is None:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return {row[0] for row in cursor.fetchall()}
    return {row[0] for row in _rows(url, query)}


def _district(world, case_in, media: Path) -> dict[str, bytes]:
    """Cases, a chat with a photo (a real file under ``media``) and audit entries."""
    case = case_in("in_progress", invite=("staff_a",))
    case_in("closed")
    chat.post_text(case, sender=world.official, text="摊位还在路口", client_id="t-1")
    chat.post_text(case, sender=world.staff_a, text="已到现场", client_id="t-2")
    photo = SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")
    chat.post_attachment(case, sender=world.staff_a, kind="image", file=photo, client_id="p-1")
    files = {
        p.relative_to(media).as_posix(): p.read_bytes() for p in media.rglob("*") if p.is_file()
    }
    assert files  # the photo is on disk
    return files


def _tamper_media(src: Path, dest: Path) -> None:
    """A copy of the backup ``src`` with one byte of one media file changed."""
    shutil.copytree(src, dest)
    with tarfile.open(src / "media.tar") as old, tarfile.open(dest / "media.tar", "w") as new:
        for member in old:
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == old.getnames()[0]:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            new.addfile(member, io.BytesIO(data))


def _tamper_manifest(src: Path, dest: Path) -> None:
    """A copy of the backup ``src`` whose manifest counts one case more than the dump holds."""
    shutil.copytree(src, dest)
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["database"]["counts"]["cases"] += 1
    (dest / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_backup_restores_everything_and_a_changed_one_fails(
    world, case_in, settings, tmp_path, new_database
):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    files = _district(world, case_in, media)
    before = {table: _ids(table) for table in KEY_TABLES}
    assert all(before.values()), before
    backup = tmp_path / "backup"
    call_command("backup", str(backup), stdout=io.StringIO())
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["engine"] == "postgresql"
    assert manifest["database"]["counts"] == {
        "cases": len(before["cases_case"]),
        "messages": len(before["chat_message"]),
        "attachments": len(before["chat_attachment"]),
        "audit_records": len(before["audit_auditrecord"]),
    }
    assert manifest["media"]["count"] == len(files)

    url, restored_media = new_database(), tmp_path / "restored-media"
    env = operator_env(DATABASE_URL=url, MEDIA_ROOT=str(restored_media))
    done = run("restore", str(backup), env=env)
    assert done.returncode == 0, done.stderr

    for table, ids in before.items():
        assert _ids(table, url=url) == ids, table
    for name in _rows(url, "SELECT file FROM chat_attachment"):
        assert (restored_media / name[0]).read_bytes() == files[name[0]]
    assert {
        p.relative_to(restored_media).as_posix() for p in restored_media.rglob("*") if p.is_file()
    } == set(files)
    verified = run("manage", "audit_verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert manifest["audit"]["summary"] in verified.stdout
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        _rows(url, "DELETE FROM audit_auditrecord RETURNING id")

    again = run("restore", str(backup), env=env)
    assert again.returncode != 0
    assert "is not empty" in again.stderr

    for tamper, says in ((_tamper_media, "checksum"), (_tamper_manifest, "cases: ")):
        changed = tmp_path / f"changed-{says.strip(': ')}"
        tamper(backup, changed)
        env = operator_env(
            DATABASE_URL=new_database(), MEDIA_ROOT=str(tmp_path / f"{changed.name}-media")
        )
        done = run("restore", str(changed), env=env)
        assert done.returncode != 0, tamper
        assert "does not match the backup's manifest" in done.stderr
        assert says in done.stderr


# --- SQLite (the demo) --------------------------------------------------------------------

SEED = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from audit.services import record
with transaction.atomic():
    record("backup.drill", details={"step": 1})
    record("backup.drill", details={"step": 2})
default_storage.save("chat/1/2026/11/photo.jpg", ContentFile(b"\\xff\\xd8 a photo"))
"""


def test_the_demo_s_sqlite_database_and_media_round_trip(tmp_path):
    source = operator_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media")
    )
    done = run("manage", "shell", "-c", SEED, env=source)
    assert done.returncode == 0, done.stderr
    done = run("backup", str(tmp_path / "backup"), env=source)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"]["engine"] == "sqlite"
    assert manifest["audit"]["sequence"] >= 2
    assert [o["name"] for o in manifest["media"]["objects"]] == ["chat/1/2026/11/photo.jpg"]

    target = operator_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'restored.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "restored-media"),
    )
    done = run("restore", str(tmp_path / "backup"), env=target)
    assert done.returncode == 0, done.stderr
    assert "Audit log intact" in done.stdout
    assert (
        tmp_path / "restored-media/chat/1/2026/11/photo.jpg"
    ).read_bytes() == b"\xff\xd8 a photo"
    with sqlite3.connect(tmp_path / "restored.sqlite3") as restored:
        actions = restored.execute(
            "SELECT action FROM audit_auditrecord WHERE action = 'backup.drill'"
        ).fetchall()
    assert len(actions) == 2
