"""Settings come from the environment: the storage for attachments, the channel layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_with(**env) -> dict:
    code = (
        "import json; from django.conf import settings;"
        "print(json.dumps({'storage': settings.STORAGES['default'],"
        " 'layer': settings.CHANNEL_LAYERS['default']['BACKEND']}, default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MEDIA_S3_BUCKET")}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
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
