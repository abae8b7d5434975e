"""The production topology as code: compose.yaml, the nginx config, the image.

What an operator relies on without reading them line by line: every service of
the topology is there, the app is given only settings it reads (and can be
given every one), no secret is written in the repository, beat runs once, and
nginx passes WebSockets and the headers the app trusts. ``docker compose
config`` validates the file where Docker Compose exists.
"""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from config import keys as config_keys

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "deploy" / "nginx" / "jinshao.conf.template"
TOPOLOGY = {"proxy", "web", "worker", "beat", "db", "redis", "minio", "migrate"}
APP_SERVICES = ("web", "worker", "beat", "migrate")
#: Read by boto3 (django-storages' S3 backend) and by prometheus_client (its
#: multiprocess directory), not by config/settings.py.
AWS_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PROMETHEUS_MULTIPROC_DIR"}
#: Settings the containers need not offer: the demo's, the tests', the in-process
#: scheduler's (off with Redis), local media (MinIO instead), another broker (Redis is it).
NOT_FOR_CONTAINERS = {
    "JINSHAO_DEMO",
    "CELERY_TASK_ALWAYS_EAGER",
    "JINSHAO_SCHEDULER_DELAY_SECONDS",
    "MEDIA_ROOT",
    "CELERY_BROKER_URL",
}
SECRET_NAME = re.compile(r"KEY|PASSWORD|SECRET|TOKEN|DSN")
REQUIRED_VARIABLE = re.compile(r"^\$\{([A-Z0-9_]+):\?[^}]*\}$")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def settings_names() -> set[str]:
    """Every environment variable config/settings.py reads (``env.<cast>("NAME"``)."""
    text = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", text))
    assert "DATABASE_URL" in names, "this test reads config/settings.py wrongly"
    return names | set(config_keys.NAMES)


def app_environment(service: str) -> dict[str, Any]:
    return compose()["services"][service]["environment"]


def test_the_compose_file_names_every_service_of_the_topology():
    services = compose()["services"]
    assert set(services) >= TOPOLOGY, f"missing: {sorted(TOPOLOGY - set(services))}"
    # The app's services run the image built from the Dockerfile, with their own command.
    commands = {name: " ".join(map(str, services[name]["command"])) for name in APP_SERVICES}
    assert "uvicorn config.asgi:application" in commands["web"]
    assert "celery -A config worker" in commands["worker"]
    assert "celery -A config beat" in commands["beat"]
    assert "manage.py migrate --noinput" in commands["migrate"]
    assert "collectstatic --noinput" in commands["migrate"]
    # The app starts after migrate has finished, and the bucket exists.
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["minio-init"] == {"condition": "service_completed_successfully"}, name
        assert depends["db"] == {"condition": "service_healthy"}, name
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_the_app_is_given_only_settings_it_reads():
    readable = settings_names() | AWS_NAMES
    for service in APP_SERVICES:
        given = set(app_environment(service))
        assert given - readable == set(), f"{service} is given names the app never reads"


def test_every_setting_the_app_reads_can_be_given_to_the_containers():
    given = set(app_environment("web"))
    missing = settings_names() - NOT_FOR_CONTAINERS - given
    assert missing == set(), (
        "config/settings.py reads these but compose.yaml does not pass them: add each "
        "to x-app-env (NAME: with no value passes it through from .env) and to .env.example"
    )


def test_no_secret_has_a_literal_value():
    services = compose()["services"]
    for service, spec in services.items():
        for name, value in (spec.get("environment") or {}).items():
            if value is None:  # passed through from .env or the shell
                continue
            text = str(value)
            if SECRET_NAME.search(name):
                assert REQUIRED_VARIABLE.match(text), f"{service}: {name} has a literal value"
            for password in re.findall(r"://[^:/@]*:([^@]*)@", text):
                assert REQUIRED_VARIABLE.match(password), f"{service}: {name} holds a password"
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    written = dict(re.findall(r"(?m)^([A-Z][A-Z0-9_]*)=(.*)$", example))
    for name in ("SECRET_KEY", "JINSHAO_AUDIT_KEY", "JINSHAO_FIELD_KEY"):
        assert REQUIRED_VARIABLE.match(app_environment("web")[name]), name
        assert written[name] == "", f".env.example gives {name} a value"
    leaked = {n for n, v in written.items() if SECRET_NAME.search(n) and "ACCESS_KEY_ID" not in n}
    assert {n for n in leaked if written[n]} == set(), ".env.example holds a secret"


def test_every_variable_compose_reads_is_documented_in_env_example():
    raw = re.sub(r"(?m)(^|\s)#.*$", "", COMPOSE.read_text(encoding="utf-8"))  # no comments
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", raw))
    passed_through = {n for n, v in app_environment("web").items() if v is None}
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"(?m)^([A-Z][A-Z0-9_]*)=", example))
    assert interpolated - documented == set()
    assert "SECRET_KEY" in interpolated and "POSTGRES_PASSWORD" in interpolated
    assert passed_through, "the app's optional settings are not passed through"


def test_only_the_proxy_is_reachable_and_the_data_services_only_by_the_app():
    spec = compose()
    services, networks = spec["services"], spec["networks"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    internal = {name for name, network in networks.items() if (network or {}).get("internal")}
    for name in ("db", "redis", "minio"):
        assert set(services[name]["networks"]) <= internal, f"{name} is reachable from outside"
    assert not set(services["proxy"]["networks"]) & internal, "the proxy reaches the data services"


def test_beat_runs_exactly_once_and_web_and_worker_scale():
    services = compose()["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    beats = [
        name
        for name, spec in services.items()
        if re.search(r"\bbeat\b|(^|\s)-B(\s|$)|--beat", " ".join(map(str, spec.get("command", []))))
    ]
    assert beats == ["beat"]
    for name in ("web", "worker"):  # `--scale NAME=N` needs no fixed name and no host port
        assert "container_name" not in services[name], name
        assert "ports" not in services[name], name
        assert "replicas" not in services[name].get("deploy", {}), name
    # A stopping web worker is given time to finish (uvicorn's own limit comes first).
    assert "--timeout-graceful-shutdown" in " ".join(services["web"]["command"])
    assert services["web"]["stop_grace_period"] == "30s"


def test_health_checks_ask_the_health_endpoints():
    services = compose()["services"]
    assert "/health/ready" in services["web"]["healthcheck"]["test"]
    assert (ROOT / "deploy" / "healthcheck.py").is_file()
    for name in ("db", "redis", "minio"):
        assert services[name]["healthcheck"]["test"], name


def _block(text: str, start: int) -> str:
    """The text of the nginx block opening at ``start`` (up to its closing brace)."""
    depth = 0
    for position in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[start : position + 1]
    raise AssertionError(f"unclosed block at {start}")


def test_nginx_passes_websockets_and_the_headers_the_app_trusts():
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    locations = [_block(text, m.start()) for m in re.finditer(r"location\s+[^{]+\{", text)]
    (sockets,) = [block for block in locations if block.startswith("location /ws/ ")]
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", sockets)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", sockets)
    assert re.search(r"map\s+\$http_upgrade\s+\$connection_upgrade", text)
    assert re.search(r"proxy_http_version\s+1\.1;", text)
    # A location setting any proxy_set_header inherits none: each one sets them all.
    proxied = [block for block in locations if "proxy_pass" in block]
    assert len(proxied) == 2 and sockets in proxied  # /ws/ and everything else
    for location in proxied:
        assert "proxy_pass http://jinshao_web;" in location
        for header, value in (
            ("Host", r"\$host"),
            ("X-Forwarded-For", r"\$proxy_add_x_forwarded_for"),
            ("X-Forwarded-Proto", r"\$scheme"),
            ("X-Request-ID", r"\$request_id"),
        ):
            assert re.search(rf"proxy_set_header\s+{header}\s+{value};", location), header
    assert re.search(r"return\s+301\s+https://\$host\$request_uri;", text)
    assert re.search(r"listen\s+443\s+ssl", text)
    assert re.search(r"location\s+/static/\s*\{\s*alias\s+/srv/jinshao/static/;", text)


def test_the_proxy_lets_the_largest_upload_through():
    proxy_env = compose()["services"]["proxy"]["environment"]
    # Every ${NAME} the template uses is given to nginx.
    template_names = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", NGINX.read_text(encoding="utf-8")))
    assert template_names <= set(proxy_env)
    assert "client_max_body_size ${JINSHAO_PROXY_MAX_BODY};" in NGINX.read_text(encoding="utf-8")
    default = re.fullmatch(
        r"\$\{JINSHAO_PROXY_MAX_BODY:-(\d+)m\}", proxy_env["JINSHAO_PROXY_MAX_BODY"]
    )
    assert default, proxy_env["JINSHAO_PROXY_MAX_BODY"]
    assert int(default.group(1)) * 1024 * 1024 > max(settings.JINSHAO_UPLOAD_LIMITS.values())


def test_the_image_runs_as_its_own_user_with_the_watermark_font():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"(?m)^FROM python:3\.11-slim$", dockerfile)
    assert "fonts-wqy-microhei" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "requirements-dev" not in dockerfile
    users = re.findall(r"(?m)^USER\s+(\S+)", dockerfile)
    assert users and users[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", ".git", "var/"} <= set(ignored)


def test_the_image_builds_the_phone_app_and_serves_its_build():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.split(r"(?m)^(?=FROM )", dockerfile)
    node = [s for s in stages if re.match(r"FROM node:20(-slim)?(@\S+)? AS mobile\b", s)]
    assert node, "no node:20 stage named mobile"
    assert re.search(r"(?m)^RUN npm ci\b", node[0])
    assert re.search(r"(?m)^RUN (npm ci && )?npm run build$", node[0])
    # The app stage (the last) takes only the build, to where core/app_shell.py reads it.
    app = stages[-1]
    assert app.startswith("FROM python:3.11-slim")
    assert settings.JINSHAO_APP_DIR == ROOT / "mobile" / "dist"  # the default, relative to /app
    copies = re.findall(r"(?m)^COPY --from=mobile (\S+) (\S+)$", app)
    assert copies == [("/mobile/dist", "/app/mobile/dist")]
    # ... after the sources, so a stale local build never overwrites it; none is sent anyway.
    assert app.index("COPY --from=mobile") > app.index("COPY . .")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"mobile/node_modules/", "mobile/dist/"} <= set(ignored)


class _Health(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append({"path": self.path, **dict(self.headers.items())})
        self.send_response(200 if self.path == "/health/live" else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_container_health_check_asks_as_the_proxy_would(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "deploy/healthcheck.py")
    assert spec and spec.loader
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PORT", str(server.server_address[1]))
        monkeypatch.setenv("ALLOWED_HOSTS", "jinshao.example.gov.cn,other")
        assert healthcheck.main(["healthcheck", "/health/live"]) == 0
        assert healthcheck.main(["healthcheck", "/health/ready"]) == 1  # 503: unhealthy
    finally:
        server.shutdown()
        server.server_close()
    assert [s["path"] for s in _Health.seen] == ["/health/live", "/health/ready"]
    assert {s["Host"] for s in _Health.seen} == {"jinshao.example.gov.cn"}
    assert {s["X-Forwarded-Proto"] for s in _Health.seen} == {"https"}
    monkeypatch.setenv("PORT", "1")  # nothing listens: unhealthy, not an exception
    assert healthcheck.main(["healthcheck", "/health/live"]) == 1


def test_docker_compose_validates_the_file():
    docker = shutil.which("docker")
    works = (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30
        ).returncode
        == 0
    )
    if not works:
        pytest.skip("`docker compose` is not available on this machine: compose.yaml not validated")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    environment = dict(re.findall(r"(?m)^([A-Z][A-Z0-9_]*)=(.*)$", example))
    filled = {n: (v or f"test-value-{n.lower()}-0123456789abcdef") for n, v in environment.items()}
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "--env-file", "/dev/null", "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", **filled},
    )
    assert result.returncode == 0, result.stderr


def test_the_app_image_can_back_up_the_database_it_is_given():
    """bin/backup runs pg_dump in the app image: its major version must reach the server's."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "postgresql-client" in dockerfile and "python:3.11-slim" in dockerfile  # bookworm: 15
    image = compose()["services"]["db"]["image"]
    assert re.match(r"postgres:(\d+)", image) and int(re.match(r"postgres:(\d+)", image)[1]) <= 15
