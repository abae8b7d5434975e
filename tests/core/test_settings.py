"""Settings come from the environment: keys and DEBUG, the storage for attachments, the channel layer."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("SECRET_KEY", "JINSHAO_AUDIT_KEY", "JINSHAO_FIELD_KEY")
PUBLISHED = "jinshao-embedded-demo-secret-key-not-for-production"  # the demo key until issue 12
#: What the test run itself sets; each test below says what it means instead.
RUN_ENV = (*KEYS, "DEBUG", "JINSHAO_DEMO", "JINSHAO_VAR_DIR", "REDIS_URL", "MEDIA_S3_BUCKET")


def start(code: str, **env) -> subprocess.CompletedProcess:
    """Run ``code`` after ``django.setup()`` in a new process with only ``env`` set of ours."""
    clean = {k: v for k, v in os.environ.items() if k not in RUN_ENV}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )


def fresh_keys() -> dict[str, str]:
    return {name: secrets.token_urlsafe(50) for name in KEYS}


def settings_with(**env) -> dict:
    code = (
        "import json; from django.conf import settings;"
        "print(json.dumps({'storage': settings.STORAGES['default'],"
        " 'layer': settings.CHANNEL_LAYERS['default']['BACKEND']}, default=str))"
    )
    result = start(code, **{**fresh_keys(), **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_is_local_disk_and_an_in_memory_layer():
    found = settings_with()
    assert found["storage"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert found["layer"] == "channels.layers.InMemoryChannelLayer"


def test_production_uses_s3_compatible_storage_and_redis():
    found = settings_with(
        MEDIA_S3_BUCKET="jinshao-media",
        AWS_S3_ENDPOINT_URL="https://oss.example.cn",
        REDIS_URL="redis://redis:6379/0",
    )
    assert found["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert found["storage"]["OPTIONS"]["bucket_name"] == "jinshao-media"
    assert found["storage"]["OPTIONS"]["endpoint_url"] == "https://oss.example.cn"
    assert found["storage"]["OPTIONS"]["querystring_auth"] is True  # never public URLs
    assert found["layer"] == "channels_redis.core.RedisChannelLayer"


KEY_CODE = (
    "import json; from django.conf import settings;"
    "print(json.dumps({'debug': settings.DEBUG, 'serve_static': settings.JINSHAO_SERVE_STATIC,"
    " 'keys': [settings.SECRET_KEY, settings.JINSHAO_AUDIT_KEY, settings.JINSHAO_FIELD_KEY]}))"
)


def test_debug_is_off_unless_asked_for():
    found = start(KEY_CODE, **fresh_keys())
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["debug"] is False
    assert json.loads(found.stdout)["serve_static"] is False


@pytest.mark.parametrize("missing", KEYS)
def test_a_missing_key_is_refused_outside_the_demo(missing):
    keys = fresh_keys()
    del keys[missing]
    refused = start(KEY_CODE, **keys)
    assert refused.returncode != 0
    assert f"{missing} must be set" in refused.stderr


@pytest.mark.parametrize("name", KEYS)
def test_the_published_key_is_refused(name, tmp_path):
    for demo in ("0", "1"):  # in the demo too
        refused = start(
            KEY_CODE,
            **{**fresh_keys(), name: PUBLISHED, "JINSHAO_DEMO": demo},
            JINSHAO_VAR_DIR=str(tmp_path),
        )
        assert refused.returncode != 0
        assert f"{name} is a published value" in refused.stderr


@pytest.mark.parametrize(("one", "other"), [(0, 1), (0, 2), (1, 2)])
def test_one_key_may_not_serve_twice(one, other):
    keys = fresh_keys()
    keys[KEYS[other]] = keys[KEYS[one]]
    refused = start(KEY_CODE, **keys)
    assert refused.returncode != 0
    assert f"{KEYS[one]} and {KEYS[other]} must be different keys" in refused.stderr


def test_a_short_key_is_refused():
    refused = start(KEY_CODE, **{**fresh_keys(), "JINSHAO_FIELD_KEY": "short-key"})
    assert refused.returncode != 0 and "at least 32 characters" in refused.stderr


def test_the_demo_makes_keys_of_its_own_once_per_machine(tmp_path):
    first = start(KEY_CODE, JINSHAO_DEMO="1", JINSHAO_VAR_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    found = json.loads(first.stdout)
    assert found["debug"] is True and found["serve_static"] is True
    keys = found["keys"]
    assert len(set(keys)) == 3 and PUBLISHED not in keys and all(len(k) >= 32 for k in keys)
    stored = tmp_path / "demo-keys.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # readable by its owner only
    again = start(KEY_CODE, JINSHAO_DEMO="1", JINSHAO_VAR_DIR=str(tmp_path))
    assert json.loads(again.stdout)["keys"] == keys  # the demo database stays readable
    elsewhere = start(KEY_CODE, JINSHAO_DEMO="1", JINSHAO_VAR_DIR=str(tmp_path / "other"))
    assert not set(json.loads(elsewhere.stdout)["keys"]) & set(keys)  # another machine's


def test_the_demo_keeps_keys_it_is_given(tmp_path):
    given = fresh_keys()
    found = start(KEY_CODE, JINSHAO_DEMO="1", JINSHAO_VAR_DIR=str(tmp_path), **given)
    assert json.loads(found.stdout)["keys"] == [given[name] for name in KEYS]
