"""The phone app served at the root (core.app_shell): the shell never stale, the hashed
files cached for a year, a clear page without a build, the server's own paths untouched."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SHELL = (
    '<!doctype html><html lang="zh-CN"><head><script type="module" crossorigin '
    'src="/assets/index-abc123.js"></script></head><body><div id="app"></div></body></html>'
)


@pytest.fixture
def built(tmp_path, settings):
    """A build as ``npm run build`` leaves it, in a directory of the test's own."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(SHELL, encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not an asset", encoding="utf-8")
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch',()=>{})", encoding="utf-8")
    (tmp_path / "manifest.webmanifest").write_text('{"name":"金哨"}', encoding="utf-8")
    (tmp_path / "icons").mkdir()
    (tmp_path / "icons" / "icon-192.png").write_bytes(b"\x89PNG\r\n")
    settings.JINSHAO_APP_DIR = tmp_path
    return tmp_path


@pytest.mark.parametrize("path", ["/", "/login", "/cases/12", "/cases/12/room", "/me/"])
def test_the_root_and_every_client_route_answer_the_shell_never_cached_stale(built, path):
    answer = Client().get(path)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/html; charset=utf-8"
    assert answer["Cache-Control"] == "no-cache"
    assert answer.content.decode() == SHELL
    assert "csrftoken" in answer.cookies  # the app reads it before its first POST


def test_the_shell_allows_the_apps_own_scripts_and_sockets_and_no_inline_script(built):
    policy = Client().get("/")["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]  # the built shell has no inline script
    assert {"ws:", "wss:"} <= set(directives["connect-src"])
    assert "data:" in directives["font-src"]  # Vant's icon font


def test_hashed_assets_are_cached_for_a_year(built):
    answer = Client().get("/assets/index-abc123.js")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer["Content-Type"].startswith(("text/javascript", "application/javascript"))
    assert answer.content == b"console.log(1)"
    assert Client().get("/assets/index-abc123.css")["Content-Type"].startswith("text/css")


def _write_siblings(built):
    import gzip

    script = built / "assets" / "index-abc123.js"
    (built / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(script.read_bytes()))
    # The Brotli copy's bytes need not be real Brotli for the server: it never decodes them.
    (built / "assets" / "index-abc123.js.br").write_bytes(b"brotli bytes")


@pytest.mark.parametrize(
    ("accept", "coding", "body"),
    [
        ("gzip, deflate, br, zstd", "br", b"brotli bytes"),
        ("gzip, deflate", "gzip", None),
        ("br;q=0, gzip;q=0.5", "gzip", None),
        ("identity", None, b"console.log(1)"),
        ("", None, b"console.log(1)"),
    ],
)
def test_a_browser_that_accepts_compression_gets_the_builds_compressed_copy(
    built, accept, coding, body
):
    import gzip

    _write_siblings(built)
    answer = Client().get("/assets/index-abc123.js", HTTP_ACCEPT_ENCODING=accept)
    assert answer.status_code == 200
    assert answer.get("Content-Encoding") == coding
    # a shared cache keeps one copy per coding
    assert "Accept-Encoding" in [v.strip() for v in answer["Vary"].split(",")]
    assert answer["Content-Type"].startswith(("text/javascript", "application/javascript"))
    assert answer["Cache-Control"] == "public, max-age=31536000, immutable"
    if coding == "gzip":
        assert gzip.decompress(answer.content) == b"console.log(1)"
    else:
        assert answer.content == body


def test_a_file_without_a_compressed_copy_is_sent_as_it_is(built):
    answer = Client().get("/assets/index-abc123.css", HTTP_ACCEPT_ENCODING="gzip, br")
    assert answer.get("Content-Encoding") is None
    assert answer.content == b"body{}"


def test_a_compressed_copy_is_never_served_under_its_own_name_as_something_else(built):
    _write_siblings(built)
    answer = Client().get("/assets/index-abc123.js.gz", HTTP_ACCEPT_ENCODING="gzip")
    # Asked by its own name it is an opaque file: no coding header that would make a
    # browser unpack it, and no script type.
    assert answer.get("Content-Encoding") is None


@pytest.mark.parametrize(
    "path", ["/assets/missing.js", "/assets/../secret.txt", "/assets/%2e%2e/secret.txt"]
)
def test_nothing_but_the_built_assets_is_served(built, path):
    assert Client().get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nowhere/",
        "/admin/nowhere/",
        "/static/nowhere.css",
        "/ws/x",
        "/metrics",
        "/health/x",
    ],
)
def test_the_servers_own_paths_are_never_the_shell(built, path):
    answer = Client().get(path)
    assert b'<div id="app">' not in answer.content
    assert answer.get("Cache-Control") != "no-cache"


def test_the_admin_still_answers_at_its_address(built):
    answer = Client().get("/admin/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    assert Client().get("/admin")["Location"] == "/admin/"  # the slash is still added


def test_without_a_build_the_root_says_to_run_bin_setup(settings, tmp_path):
    settings.JINSHAO_APP_DIR = tmp_path / "dist"
    answer = Client().get("/")
    assert answer.status_code == 503
    assert answer["Cache-Control"] == "no-cache"
    page = answer.content.decode()
    assert "bin/setup" in page and "Node.js" in page


def test_the_shell_refuses_writes(built):
    assert Client().post("/cases/1").status_code == 405


def test_the_admin_login_page_sends_field_roles_to_the_app(client):
    page = client.get("/admin/login/").content.decode()
    assert 'id="phone-app-hint"' in page and 'href="/"' in page


def test_the_service_worker_is_served_at_the_root_as_javascript_and_never_cached(built):
    answer = Client().get("/sw.js")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/javascript; charset=utf-8"
    # a new release must be seen by the browser's update check on the next open
    assert answer["Cache-Control"] == "no-cache"
    assert answer["Service-Worker-Allowed"] == "/"
    assert answer.content.startswith(b"self.addEventListener")


def test_the_manifest_is_served_with_its_own_type_and_revalidated(built):
    answer = Client().get("/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/manifest+json"
    assert answer["Cache-Control"] == "no-cache"
    assert "金哨" in answer.content.decode()


def test_the_manifests_icons_are_png_cached_for_a_day(built):
    answer = Client().get("/icons/icon-192.png")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/png"
    assert answer["Cache-Control"] == "public, max-age=86400"


@pytest.mark.parametrize("path", ["/icons/missing.png", "/icons/..%2fsecret.txt", "/icons/x.txt"])
def test_nothing_but_the_icons_is_served_under_icons(built, path):
    assert Client().get(path).status_code == 404


def test_without_a_build_there_is_no_service_worker_nor_manifest(tmp_path, settings):
    settings.JINSHAO_APP_DIR = tmp_path
    assert Client().get("/sw.js").status_code == 404
    assert Client().get("/manifest.webmanifest").status_code == 404


def test_the_policy_lets_the_app_register_its_worker_and_read_its_manifest(built):
    policy = Client().get("/")["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["worker-src"] == ["'self'"]
    assert directives["manifest-src"] == ["'self'"]


@pytest.mark.parametrize(
    "path", ["/assets/index-abc123.js", "/sw.js", "/manifest.webmanifest", "/icons/icon-192.png"]
)
def test_the_builds_files_do_not_vary_by_person_or_language(built, path):
    # the service worker's precache (Chromium's Cache Storage) misses answers that vary
    client = Client()
    client.cookies["sessionid"] = "x"
    answer = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 200
    # Only a hashed file with compressed copies varies, and only by what the browser unpacks.
    expected = "Accept-Encoding" if path.startswith("/assets/") else None
    assert answer.get("Vary") == expected
