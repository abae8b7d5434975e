"""The three secret keys, checked before anything starts.

- ``SECRET_KEY``: Django's (sessions, password reset links, signed tokens).
- ``JINSHAO_AUDIT_KEY``: signs the audit log's hash chain, its head and anchor.
- ``JINSHAO_FIELD_KEY``: encrypts personal data at rest (``core.crypto``).

Outside the demo each must be set in the environment, be at least
``MIN_LENGTH`` characters, not be a value published with the code, and differ
from the other two: none falls back to another, so knowing one (a leaked
``SECRET_KEY``, say) gives nothing of the others.

The demo (``JINSHAO_DEMO=1``, exported by ``bin/demo``) generates each key it
is not given once per machine, at random, and keeps them in
``var/demo-keys.json`` (readable by its owner only).

Pure functions over plain values: ``config.settings`` imports this before
Django is set up.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

#: The settings that hold a key, in the order they are checked.
NAMES = ("SECRET_KEY", "JINSHAO_AUDIT_KEY", "JINSHAO_FIELD_KEY")

#: Shortest accepted key, in characters.
MIN_LENGTH = 32

#: Values that were published with the code (the demo key until issue 12):
#: anyone holding them could forge sessions and tokens or re-sign the audit log.
PUBLISHED = frozenset({"jinshao-embedded-demo-secret-key-not-for-production"})

#: Where the demo keeps its per-machine keys, under ``VAR_DIR``.
DEMO_KEYS_FILE = "demo-keys.json"


def demo_keys(var_dir: Path) -> dict[str, str]:
    """The demo's per-machine keys ``{name: key}``, generated at random on first use.

    The file is created with mode 0600 (owner only) and never overwritten, so
    the demo database stays readable across restarts.
    """
    path = Path(var_dir) / DEMO_KEYS_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = {name: secrets.token_urlsafe(50) for name in NAMES}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as out:
                json.dump(fresh, out)
    stored = json.loads(path.read_text())
    return {name: str(stored.get(name, "")) for name in NAMES}


def check(keys: dict[str, str]) -> None:
    """Refuse to start with a missing, short, published or shared key.

    ``keys`` is ``{setting name: value}`` for every name in ``NAMES``.
    Raises ``ImproperlyConfigured`` naming the setting (never its value).
    """
    for name in NAMES:
        value = keys.get(name, "")
        if not value:
            raise ImproperlyConfigured(
                f"{name} must be set (or run the demo with JINSHAO_DEMO=1, as bin/demo does)."
            )
        if value in PUBLISHED or value.startswith("django-insecure"):
            raise ImproperlyConfigured(f"{name} is a published value; set a secret one.")
        if len(value) < MIN_LENGTH:
            raise ImproperlyConfigured(f"{name} must be at least {MIN_LENGTH} characters long.")
    for n, name in enumerate(NAMES):
        for other in NAMES[n + 1 :]:
            if keys[name] == keys[other]:
                raise ImproperlyConfigured(f"{name} and {other} must be different keys.")
