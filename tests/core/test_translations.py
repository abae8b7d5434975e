"""The zh-hans catalogue is complete, compiled, and used by default."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from cases.choices import CaseState
from cases.models import Case

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def test_every_entry_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(PO))
    assert [e.msgid for e in po if not _translated(e)] == []
    assert [e.msgid for e in po if "fuzzy" in e.flags] == []


def test_compiled_catalogue_matches_the_source():
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in polib.mofile(str(MO)) if e.msgid
    }
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.pofile(str(PO))
        if not e.obsolete
    }
    assert compiled == source, "run: manage.py compilemessages -l zh_Hans --ignore=.venv"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
def test_every_translatable_string_in_the_code_has_an_entry(tmp_path):
    """Extract the strings again from a copy of the code and compare with the catalogue."""
    ignore = shutil.ignore_patterns(
        ".venv", "var", "locale", "tests", ".git", "__pycache__", "*_cache"
    )
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=ignore)
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = {
        (e.msgctxt, e.msgid)
        for e in polib.pofile(str(copy / "locale/zh_Hans/LC_MESSAGES/django.po"))
    }
    catalogue = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO)) if not e.obsolete}
    missing = sorted(extracted - catalogue)
    assert missing == [], "run makemessages -l zh_Hans and translate: " + "; ".join(
        m for _c, m in missing
    )


def test_chinese_by_default_english_on_request():
    with translation.override("zh-hans"):
        assert str(CaseState.DISPATCHED.label) == "已派单"
        assert str(Case._meta.verbose_name) == "案件"
    with translation.override("en"):
        assert str(CaseState.DISPATCHED.label) == "Dispatched"
        assert str(Case._meta.verbose_name) == "case"
