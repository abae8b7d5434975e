"""Headers, production settings and session limits (issue 7's "identity" and "data" points)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_pages_carry_the_security_headers(client, world):
    client.force_login(world.superuser)
    page = client.get(reverse("admin:index"))
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page["X-Frame-Options"] == "DENY"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Content-Type-Options"] == "nosniff"


def test_check_deploy_is_clean_with_production_settings():
    ours = ("DEBUG", "DATABASE_URL", "REDIS_URL", "JINSHAO_DEMO", "JINSHAO_VAR_DIR")
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        JINSHAO_AUDIT_KEY=secrets.token_urlsafe(50),
        JINSHAO_FIELD_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="jinshao.example.cn",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _age_session(client, **ago_seconds):
    session = client.session
    now = int(time.time())
    for key, seconds in ago_seconds.items():
        session[key] = now - seconds
    session.save()


@pytest.mark.parametrize(
    ("ago", "still_in"),
    [
        ({"jinshao_seen": 29 * 60}, True),
        ({"jinshao_seen": 31 * 60}, False),  # idle for more than 30 minutes
        ({"jinshao_started": 13 * 3600}, False),  # begun more than 12 hours ago
    ],
)
def test_sessions_end_when_idle_or_too_old(client, world, ago, still_in):
    client.force_login(world.superuser)
    client.get(reverse("admin:index"))  # the session records its start and last use
    _age_session(client, **ago)
    page = client.get(reverse("admin:index"))
    assert (page.status_code == 200) is still_in
    if not still_in:
        assert page.status_code == 302 and "_auth_user_id" not in client.session


def test_a_session_in_use_is_written_at_most_once_a_minute(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.superuser)
    client.get(reverse("admin:index"))  # records its start and last use
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("admin:index"))
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    _age_session(client, jinshao_seen=61)
    client.get(reverse("admin:index"))
    assert int(time.time()) - client.session["jinshao_seen"] <= 1  # a minute on: recorded
