"""``{% vite_entry "src/dashboard.ts" %}``: a page of the back office includes an entry of the
phone app's build (``mobile/dist``, ``core.app_shell.app_dir``) through the build's manifest.

Vite writes ``dist/.vite/manifest.json``: per source entry its hashed file, the chunks
it imports and its CSS. The tag gives the CSS links, a ``modulepreload`` per imported
chunk and the module script, all under ``/assets/`` (same origin: CSP ``script-src
'self'``). Without a build, or an entry the manifest does not know, it gives nothing
(the page still shows its figures as text).
"""

from __future__ import annotations

import json
from functools import lru_cache

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from core.app_shell import app_dir

register = template.Library()


def _manifest() -> dict:
    path = app_dir() / ".vite" / "manifest.json"
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    return _read(str(path), stamp)


@lru_cache(maxsize=4)
def _read(path: str, stamp: int) -> dict:
    """The manifest's JSON, read again only when the file changes (``stamp``: its mtime)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def entry_files(name: str) -> tuple[list[str], list[str], str | None]:
    """``(css, preloads, script)``: the ``/assets/…`` URLs of entry ``name`` (nothing if unbuilt).

    ``preloads`` are the chunks the entry imports, transitively, each once.
    """
    manifest = _manifest()
    chunk = manifest.get(name)
    if not chunk:
        return [], [], None
    css: list[str] = list(chunk.get("css", []))
    preloads: list[str] = []
    seen: set[str] = set()
    pending = list(chunk.get("imports", []))
    while pending:
        key = pending.pop(0)
        if key in seen or key not in manifest:
            continue
        seen.add(key)
        preloads.append(manifest[key]["file"])
        css.extend(c for c in manifest[key].get("css", []) if c not in css)
        pending.extend(manifest[key].get("imports", []))
    return [f"/{c}" for c in css], [f"/{p}" for p in preloads], f"/{chunk['file']}"


@register.simple_tag
def vite_entry(name: str) -> SafeString:
    """The tags that load entry ``name`` of the app's build (empty without a build)."""
    css, preloads, script = entry_files(name)
    if script is None:
        return mark_safe("")
    return format_html(
        '{}{}<script type="module" src="{}"></script>',
        format_html_join("", '<link rel="stylesheet" href="{}">', ((c,) for c in css)),
        format_html_join("", '<link rel="modulepreload" href="{}">', ((p,) for p in preloads)),
        script,
    )
