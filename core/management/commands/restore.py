"""Restore a backup: ``manage.py restore SRC_DIR`` (``bin/restore``; docs/backup.md).

Into an EMPTY database (``DATABASE_URL``) and an EMPTY media store
(``MEDIA_ROOT``, or ``MEDIA_S3_BUCKET``): a target holding anything is refused
before anything is written. PostgreSQL: ``pg_restore --single-transaction
--exit-on-error --no-owner --no-privileges``, connected as the application's
own role, which so owns every table (and the audit log's append-only trigger
comes back with it). SQLite: SQLite's backup API into the ``DATABASE_URL`` file.

Then it checks the restored copy against ``manifest.json`` and fails (exit
status 1, every mismatch named) unless: the key tables hold the same row counts;
the audit head has the manifest's sequence and digest; on PostgreSQL the
append-only trigger is in place; every media object is in the store with the
manifest's SHA-256 and every attachment row's file is one of them; and
``audit_verify --at-least <the manifest's sequence>`` passes (with this
environment's ``JINSHAO_AUDIT_KEY``, which must be the district's).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.management.commands.backup import (
    CHUNK,
    FORMAT,
    MANIFEST,
    audit_head,
    engine,
    key_counts,
    media_bucket,
    pg_environment,
    s3_client,
)


def read_manifest(src: Path) -> dict[str, Any]:
    """The backup's manifest; CommandError if missing, unreadable or of another format."""
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise CommandError(f"No readable {MANIFEST} in {src}: {error}") from error
    if manifest.get("format") != FORMAT:
        raise CommandError(
            f"{src / MANIFEST} is of format {manifest.get('format')!r}, not {FORMAT}."
        )
    return manifest


def database_is_empty() -> bool:
    """True when the default database holds no table (nor view, sequence) of its own."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp_%%'"
            )
        else:
            cursor.execute("SELECT count(*) FROM sqlite_master")
        return int(cursor.fetchone()[0]) == 0


def media_is_empty() -> bool:
    """True when the media store holds no object."""
    bucket = media_bucket()
    if bucket:
        listed = s3_client().list_objects_v2(Bucket=bucket, MaxKeys=1)
        return not listed.get("Contents")
    root = Path(settings.MEDIA_ROOT)
    return not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def _restore_postgresql(dump: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise CommandError("pg_restore is not installed (PostgreSQL client tools).")
    connection.close()
    done = subprocess.run(
        [
            "pg_restore",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        env=pg_environment(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise CommandError(f"pg_restore failed: {done.stderr.strip()}")


def _restore_sqlite(copy: Path) -> None:
    connection.close()
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    target = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise CommandError(f"Refused media name {name!r} in the backup.")
    return path.as_posix()


def restore_media(tar_path: Path) -> int:
    """Put every regular file of ``tar_path`` into the media store; how many."""
    bucket = media_bucket()
    client = s3_client() if bucket else None
    root = Path(settings.MEDIA_ROOT)
    restored = 0
    with tarfile.open(tar_path, "r") as tar:
        for member in tar:
            if not member.isfile():
                raise CommandError(f"Refused media entry {member.name!r}: not a regular file.")
            name = _safe_name(member.name)
            stream = tar.extractfile(member)
            assert stream is not None  # a regular file
            if client is not None:
                client.upload_fileobj(stream, bucket, name)
            else:
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as out:
                    shutil.copyfileobj(stream, out, CHUNK)
            restored += 1
    return restored


def stored_sha256(name: str) -> str | None:
    """SHA-256 of the media object ``name`` as the store holds it; None if absent."""
    digest = hashlib.sha256()
    bucket = media_bucket()
    if bucket:
        client = s3_client()
        try:
            body = client.get_object(Bucket=bucket, Key=name)["Body"]
        except client.exceptions.NoSuchKey:
            return None
        for chunk in iter(lambda: body.read(CHUNK), b""):
            digest.update(chunk)
        return digest.hexdigest()
    path = Path(settings.MEDIA_ROOT) / name
    if not path.is_file():
        return None
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mismatches(manifest: dict[str, Any], *, restored: int) -> list[str]:
    """Every way the restored database and ``restored`` media objects differ from ``manifest``."""
    found = []
    expected = manifest["database"]["counts"]
    for label, count in key_counts().items():
        if expected.get(label) != count:
            found.append(f"{label}: {count} rows restored, the manifest says {expected.get(label)}")
    head, want = audit_head(), manifest["audit"]
    if (head["sequence"], head["digest"]) != (want["sequence"], want["digest"]):
        found.append(f"audit head is {head['summary']}, the manifest says {want['summary']}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_append_only' "
                "AND tgrelid = 'audit_auditrecord'::regclass AND tgenabled <> 'D'"
            )
            if cursor.fetchone()[0] != 1:
                found.append("the audit log's append-only trigger is missing or disabled")
    objects = manifest["media"]["objects"]
    if restored != manifest["media"]["count"]:
        found.append(
            f"media: {restored} objects restored, the manifest counts {manifest['media']['count']}"
        )
    if len(objects) != manifest["media"]["count"]:
        found.append(
            f"media: {len(objects)} objects listed, the manifest counts {manifest['media']['count']}"
        )
    for item in objects:
        sha = stored_sha256(item["name"])
        if sha is None:
            found.append(f"media object {item['name']} is missing")
        elif sha != item["sha256"]:
            found.append(f"media object {item['name']} differs from the backup's checksum")
    from chat.models import Attachment

    listed = {item["name"] for item in objects}
    for name in Attachment.objects.values_list("file", flat=True).iterator():
        if name not in listed:
            found.append(f"attachment file {name} is not in the backup")
    return found


class Command(BaseCommand):
    help = (
        "Restore a backup (manage.py backup) into an empty database and media store, then check it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "src", metavar="SRC_DIR", help="A directory written by manage.py backup."
        )

    def handle(self, *args, **options):
        src = Path(options["src"])
        manifest = read_manifest(src)
        kind = engine()
        if manifest["database"]["engine"] != kind:
            raise CommandError(
                f"The backup is of {manifest['database']['engine']}, this database is {kind}."
            )
        dump = src / manifest["database"]["file"]
        media = src / manifest["media"]["file"]
        for needed in (dump, media):
            if not needed.is_file():
                raise CommandError(f"The backup lacks {needed}.")
        if not database_is_empty():
            raise CommandError(
                f"Refused: the database {connection.settings_dict['NAME']} is not empty. "
                "Restore only into a new, empty database (createdb, as the application's role); "
                "nothing was changed."
            )
        if not media_is_empty():
            raise CommandError(
                "Refused: the media store (MEDIA_ROOT or MEDIA_S3_BUCKET) is not empty. "
                "Restore only into an empty one; nothing was changed."
            )
        if kind == "postgresql":
            _restore_postgresql(dump)
        else:
            _restore_sqlite(dump)
        restored = restore_media(media)
        found = mismatches(manifest, restored=restored)
        if found:
            raise CommandError(
                "The restored copy does not match the backup's manifest:\n- " + "\n- ".join(found)
            )
        call_command("audit_verify", at_least=manifest["audit"]["sequence"], stdout=self.stdout)
        self.stdout.write(
            f"Restored {src}: "
            + ", ".join(f"{label} {n}" for label, n in manifest["database"]["counts"].items())
            + f"; media {restored} objects; every count and checksum matches the manifest."
        )
