"""The README points only at what a clone of the repository holds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_path_the_readme_names_is_in_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = {  # paths (with a folder), not bare file names such as `admin.py`
        p for p in re.findall(r"`((?:\.\./)?[\w.-]+/[\w./-]+\.(?:md|py|toml|txt|yaml))`", text)
    }
    named |= set(re.findall(r"\]\(((?!https?:)[^)#]+)\)", text))  # markdown links
    assert named, "the README names no files: this test reads it wrongly"
    missing = sorted(
        p for p in named if not (ROOT / p).resolve().is_relative_to(ROOT) or not (ROOT / p).exists()
    )
    assert missing == []
