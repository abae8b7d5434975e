"""Back the district up: ``manage.py backup DEST_DIR`` (``bin/backup``; docs/backup.md).

Writes into ``DEST_DIR`` (created; refused if it already holds a backup):

- ``database.dump``: PostgreSQL, ``pg_dump --format=custom`` of the
  ``DATABASE_URL`` database, the audit log's append-only trigger included;
  or ``database.sqlite3``: SQLite (the demo), through SQLite's backup API.
- ``media.tar``: every media object (local ``MEDIA_ROOT``, or every object of
  ``MEDIA_S3_BUCKET`` read with boto3), under its own name.
- ``manifest.json``: when, which database engine, the row counts of the key
  tables, the audit head (sequence and digest, as ``audit_verify`` prints
  them) and every media object's name, size and SHA-256.

On PostgreSQL the counts, the audit head and the dump come from one snapshot
(``pg_export_snapshot`` and ``pg_dump --snapshot``), so a district writing
meanwhile still gets a manifest that matches its dump. Media are copied after
the snapshot: every attachment row in the dump has its file (unless deleted
since). ``manage.py restore`` (``bin/restore``) reads all three back and checks them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA_TAR = "media.tar"
FORMAT = 1

# The tables whose row counts a restore must find again: label → table.
KEY_TABLES = {
    "cases": "cases_case",
    "messages": "chat_message",
    "attachments": "chat_attachment",
    "audit_records": "audit_auditrecord",
}
CHUNK = 1024 * 1024


def engine() -> str:
    """``postgresql`` or ``sqlite``; anything else is refused (CommandError)."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise CommandError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return "postgresql" if vendor == "postgresql" else "sqlite"


def pg_environment() -> dict[str, str]:
    """The ``PG*`` environment for pg_dump/pg_restore from the default database's settings.

    The password travels in ``PGPASSWORD``, never on a command line others can list.
    """
    db = connection.settings_dict
    env = dict(os.environ)
    for var, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    for option, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if db.get("OPTIONS", {}).get(option):
            env[var] = str(db["OPTIONS"][option])
    return env


def key_counts() -> dict[str, int]:
    """Rows in each of ``KEY_TABLES``, read on the default connection."""
    with connection.cursor() as cursor:
        counts = {}
        for label, table in KEY_TABLES.items():
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[label] = int(cursor.fetchone()[0])
    return counts


def audit_head() -> dict[str, Any]:
    """``{"sequence": int, "digest": str, "summary": "sequence N, head …"}`` (0/"" if no head)."""
    from audit.models import ChainHead
    from audit.services import head_summary

    head = ChainHead.objects.filter(pk=1).first()
    return {
        "sequence": head.sequence if head else 0,
        "digest": head.digest if head else "",
        "summary": head_summary(),
    }


def s3_client():
    """A boto3 S3 client for the media bucket, configured as django-storages is."""
    import boto3

    options = settings.STORAGES["default"].get("OPTIONS", {})
    return boto3.client(
        "s3",
        endpoint_url=options.get("endpoint_url"),
        region_name=options.get("region_name"),
    )


def media_bucket() -> str:
    """The S3 bucket of the media store, or ``""`` for local ``MEDIA_ROOT``."""
    if "s3" not in settings.STORAGES["default"]["BACKEND"].lower():
        return ""
    return str(settings.STORAGES["default"]["OPTIONS"]["bucket_name"])


class _Hashing(io.RawIOBase):
    """A read-only stream that hashes and counts what passes through it."""

    def __init__(self, source: IO[bytes]):
        self.source, self.sha256, self.size = source, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _local_objects(root: Path) -> Iterator[tuple[str, int, IO[bytes]]]:
    if not root.is_dir():
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        with path.open("rb") as stream:
            yield path.relative_to(root).as_posix(), path.stat().st_size, stream


def _s3_objects(bucket: str) -> Iterator[tuple[str, int, IO[bytes]]]:
    client = s3_client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
            try:
                yield item["Key"], int(item["Size"]), body
            finally:
                body.close()


def write_media(tar_path: Path) -> list[dict[str, Any]]:
    """Copy every media object into ``tar_path``: ``[{"name", "size", "sha256"}, …]``."""
    bucket = media_bucket()
    objects = _s3_objects(bucket) if bucket else _local_objects(Path(settings.MEDIA_ROOT))
    listed = []
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, size, stream in objects:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = size, 0o640, int(timezone.now().timestamp())
            hashing = _Hashing(stream)
            tar.addfile(info, hashing)
            if hashing.size != size:
                raise CommandError(f"Media object {name} changed size while it was copied.")
            listed.append({"name": name, "size": size, "sha256": hashing.sha256.hexdigest()})
    return listed


def _dump_postgresql(dest: Path) -> tuple[dict[str, int], dict[str, Any]]:
    """pg_dump on one snapshot with the counts and head read from it."""
    if shutil.which("pg_dump") is None:
        raise CommandError("pg_dump is not installed (PostgreSQL client tools).")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        counts, head = key_counts(), audit_head()
        done = subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dest / PG_DUMP}",
            ],
            env=pg_environment(),
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise CommandError(f"pg_dump failed: {done.stderr.strip()}")
    return counts, head


def _copy_sqlite(dest: Path) -> tuple[dict[str, int], dict[str, Any]]:
    """SQLite's online backup API into ``database.sqlite3``; counts read from the copy."""
    connection.ensure_connection()
    target = sqlite3.connect(dest / SQLITE_COPY)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return key_counts(), audit_head()


class Command(BaseCommand):
    help = "Back up the database and the media store into DEST_DIR, with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("dest", metavar="DEST_DIR", help="A new or empty directory.")

    def handle(self, *args, **options):
        dest = Path(options["dest"])
        dest.mkdir(parents=True, exist_ok=True)
        if any(dest.iterdir()):
            raise CommandError(f"{dest} is not empty: back up into a new directory.")
        kind = engine()
        if kind == "postgresql":
            counts, head = _dump_postgresql(dest)
        else:
            counts, head = _copy_sqlite(dest)
        media = write_media(dest / MEDIA_TAR)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database": {
                "engine": kind,
                "file": PG_DUMP if kind == "postgresql" else SQLITE_COPY,
                "counts": counts,
            },
            "audit": head,
            "media": {
                "store": "s3" if media_bucket() else "local",
                "file": MEDIA_TAR,
                "count": len(media),
                "objects": media,
            },
        }
        (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        self.stdout.write(
            f"Backup written to {dest}: {kind}, "
            + ", ".join(f"{label} {n}" for label, n in counts.items())
            + f"; media {len(media)} objects; audit {head['summary']}."
        )
