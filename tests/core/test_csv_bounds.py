"""A csv import is bounded like an xlsx: in bytes before it is decoded, and in width."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from core.spreadsheets import MAX_COLUMNS, BoundedCSV, ImportTooLarge, read_csv


def _wide_csv(rows: int, columns: int) -> str:
    header = ",".join(f"c{i}" for i in range(columns))
    line = ",".join("1" for _ in range(columns))
    return "\n".join([header, *([line] * rows)]) + "\n"


def test_a_csv_past_the_byte_bound_is_refused(settings):
    settings.JINSHAO_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    text = _wide_csv(rows=100, columns=60)
    text = text * (2 * 1024 * 1024 // len(text) + 1)  # over 2 MB, few columns
    with pytest.raises(ImportTooLarge, match="1.0"):
        read_csv(text.encode())
    with pytest.raises(ImportTooLarge):
        BoundedCSV().create_dataset(text.encode())


def test_a_csv_wider_than_an_xlsx_is_refused():
    for reader in (read_csv, BoundedCSV().create_dataset):
        with pytest.raises(ImportTooLarge, match=str(MAX_COLUMNS)):
            reader(_wide_csv(rows=5, columns=MAX_COLUMNS + 1).encode())
    assert read_csv(_wide_csv(rows=5, columns=MAX_COLUMNS).encode()).width == MAX_COLUMNS


@pytest.mark.django_db
def test_import_sheet_refuses_a_large_csv_before_reading_it(settings, tmp_path):
    settings.JINSHAO_IMPORT_MAX_UNPACKED_BYTES = 1024
    path = tmp_path / "areas.csv"
    path.write_text(_wide_csv(rows=200, columns=5))
    with pytest.raises(CommandError, match="1.0"):
        call_command("import_sheet", "areas", str(path))
